//! A tiny HTTP server with Rust's standard library only.
//!
//!   GET /         a greeting
//!   GET /healthz  "ok", for probes

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    let mut request_line = String::new();
    BufReader::new(&stream).read_line(&mut request_line)?;
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let (status, body) = match path {
        "/" => ("200 OK", "Olá do preset rust!\n"),
        "/healthz" => ("200 OK", "ok\n"),
        _ => ("404 Not Found", "not found\n"),
    };
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

// As PID 1 in a container a process has no default action for SIGTERM:
// without a handler, `docker stop` waits its whole timeout, then kills it.
// The standard library has no signal API, so this asks libc directly.
extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
    fn _exit(status: i32) -> !;
}
const SIGTERM: i32 = 15;

extern "C" fn exit_on_term(_: i32) {
    // SAFETY: _exit is async-signal-safe; there is nothing to flush.
    unsafe { _exit(0) }
}

fn main() -> std::io::Result<()> {
    // SAFETY: installs a handler that only calls an async-signal-safe function.
    unsafe { signal(SIGTERM, exit_on_term) };
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".to_owned());
    let listener = TcpListener::bind(("0.0.0.0", port.parse().unwrap_or(8080)))?;
    eprintln!("listening on :{port}");
    for stream in listener.incoming() {
        if let Err(e) = stream.and_then(answer) {
            eprintln!("request failed: {e}");
        }
    }
    Ok(())
}
