package com.example;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * A tiny HTTP server with the JDK only.
 *
 * <p>GET / answers the greeting in the {@code greeting.txt} resource, GET /healthz answers "ok".
 */
public final class Main {
    private Main() {}

    private static void send(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
        exchange.close();
    }

    public static void main(String[] args) throws IOException {
        String greeting;
        try (InputStream in = Main.class.getResourceAsStream("/greeting.txt")) {
            greeting = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        int port = Integer.parseInt(System.getenv().getOrDefault("PORT", "8080"));
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            if (path.equals("/")) {
                send(exchange, 200, greeting);
            } else if (path.equals("/healthz")) {
                send(exchange, 200, "ok\n");
            } else {
                send(exchange, 404, "not found\n");
            }
        });
        server.start();
        System.err.println("listening on :" + port);
    }
}
