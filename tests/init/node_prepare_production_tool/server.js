require("http").createServer().listen(process.env.PORT || 3000)
