module example.com/stowplan/monorepo-contexts/api

go 1.19
