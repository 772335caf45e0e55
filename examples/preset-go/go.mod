module example.com/stowplan/preset-go

go 1.19
