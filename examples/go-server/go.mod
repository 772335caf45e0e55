module example.com/stowplan/go-server

go 1.19
