//! The registry client's pure parts: endpoints, credentials, challenges.
//! A real registry is in `tests/suite/lock.rs`.

use crate::registry::auth::{Challenge, Credentials, Login};
use crate::registry::{Endpoint, is_loopback};

#[test]
fn endpoints_follow_docker_normalization() {
    let e = Endpoint::of("golang:1.22.5-bookworm");
    assert_eq!(e.host, "docker.io");
    assert_eq!(e.base, "https://registry-1.docker.io");
    assert_eq!(e.path, "library/golang");
    assert_eq!(e.tag, "1.22.5-bookworm");
    let e = Endpoint::of("gcr.io/distroless/static-debian12");
    assert_eq!(
        (e.base.as_str(), e.path.as_str(), e.tag.as_str()),
        ("https://gcr.io", "distroless/static-debian12", "latest")
    );
    let e = Endpoint::of("127.0.0.1:5000/stowplan/tiny:1");
    assert_eq!(
        (e.host.as_str(), e.base.as_str(), e.path.as_str()),
        ("127.0.0.1:5000", "http://127.0.0.1:5000", "stowplan/tiny")
    );
    let e = Endpoint::of("localhost/x:2");
    assert_eq!(e.base, "http://localhost");
    let e = Endpoint::of("nginxinc/nginx-unprivileged:1.27.5-alpine");
    assert_eq!(e.path, "nginxinc/nginx-unprivileged");
}

#[test]
fn plain_http_only_on_the_loopback() {
    for host in [
        "localhost",
        "localhost:5000",
        "127.0.0.1",
        "127.1.2.3:80",
        "[::1]:5000",
    ] {
        assert!(is_loopback(host), "{host}");
    }
    for host in [
        "example.com",
        "10.0.0.1:5000",
        "localhost.example.com",
        "128.0.0.1",
        "[::2]:1",
    ] {
        assert!(!is_loopback(host), "{host}");
    }
}

#[test]
fn challenges_parse() {
    assert_eq!(
        Challenge::parse(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/golang:pull""#
        ),
        Some(Challenge::Bearer {
            realm: "https://auth.docker.io/token".into(),
            service: Some("registry.docker.io".into()),
            scope: Some("repository:library/golang:pull".into()),
        })
    );
    assert_eq!(
        Challenge::parse(r#"Basic realm="Registry Realm""#),
        Some(Challenge::Basic)
    );
    assert_eq!(
        Challenge::parse(r#"bearer realm="https://r/t", scope="a,b""#),
        Some(Challenge::Bearer {
            realm: "https://r/t".into(),
            service: None,
            scope: Some("a,b".into()),
        })
    );
    assert_eq!(Challenge::parse("Negotiate"), None);
    assert_eq!(Challenge::parse("Bearer service=x"), None);
}

#[test]
fn credentials_match_the_most_specific_key() {
    // "alice:s3cret" and "bob:pw:with:colons"
    let text = r#"{"auths": {
        "https://index.docker.io/v1/": {"auth": "YWxpY2U6czNjcmV0"},
        "ghcr.io/acme": {"auth": "Ym9iOnB3OndpdGg6Y29sb25z"},
        "ghcr.io": {"username": "carol", "password": "x"},
        "empty.example": {"auth": ""}
    }, "credHelpers": {"gcr.io": "gcloud"}}"#;
    let c = Credentials::parse(text).unwrap();
    assert_eq!(c.find("docker.io", "library/golang").unwrap().user, "alice");
    let bob = c.find("ghcr.io", "acme/api").unwrap();
    assert_eq!(bob.password, "pw:with:colons");
    assert_eq!(c.find("ghcr.io", "other/api").unwrap().user, "carol");
    assert!(c.find("empty.example", "a").is_none());
    assert!(c.find("gcr.io", "distroless/static").is_none());
    assert_eq!(
        Login {
            user: "alice".into(),
            password: "s3cret".into()
        }
        .basic(),
        "Basic YWxpY2U6czNjcmV0"
    );
    assert!(Credentials::parse(r#"{"auths": {"x": {"auth": "!!"}}}"#).is_err());
    assert!(Credentials::parse("[").is_err());
}

/// A registry of canned answers on a loopback port: each connection gets
/// the next answer for its request line, and the requests are kept.
fn fake_registry(
    answers: Vec<(&'static str, String)>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    serve(listener, answers)
}

fn answer(status: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut text = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

const INDEX: &str = "application/vnd.oci.image.index.v1+json";

#[test]
fn the_bearer_token_flow_with_a_login() {
    let digest = format!("sha256:{}", "ab".repeat(32));
    // The realm is on the same fake server.
    let listener_answers = |host: &str| {
        vec![
            (
                "HEAD /v2/acme/app/manifests/1 ",
                answer(
                    "401 Unauthorized",
                    &[(
                        "WWW-Authenticate",
                        &format!(
                            r#"Bearer realm="http://{host}/token",service="fake",scope="repository:acme/app:pull""#
                        ),
                    )],
                    "",
                ),
            ),
            (
                "GET /token?",
                answer(
                    "200 OK",
                    &[("Content-Type", "application/json")],
                    r#"{"token":"t0k3n"}"#,
                ),
            ),
            (
                "HEAD /v2/acme/app/manifests/1 ",
                answer(
                    "200 OK",
                    &[("Content-Type", INDEX), ("Docker-Content-Digest", &digest)],
                    "",
                ),
            ),
        ]
    };
    // The port must be known before the answers name the realm.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let host = format!("127.0.0.1:{port}");
    let (served, handle) = fake_registry_on(port, listener_answers(&host));
    let credentials = Credentials::parse(&format!(
        r#"{{"auths": {{"{served}": {{"auth": "YWxpY2U6czNjcmV0"}}}}}}"#
    ))
    .unwrap();
    let registry = crate::registry::Registry::with_credentials(credentials);
    let got = registry.resolve(&format!("{served}/acme/app:1")).unwrap();
    assert_eq!(got, digest);
    let seen = handle.join().unwrap();
    assert!(seen[0].to_ascii_lowercase().contains("accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"), "{}", seen[0]);
    assert!(
        seen[1].contains("scope=repository%3Aacme%2Fapp%3Apull")
            || seen[1].contains("scope=repository:acme/app:pull"),
        "{}",
        seen[1]
    );
    assert!(seen[1].contains("service=fake"), "{}", seen[1]);
    assert!(
        seen[1].contains("Basic YWxpY2U6czNjcmV0"),
        "the login goes to the realm: {}",
        seen[1]
    );
    assert!(seen[2].contains("Bearer t0k3n"), "{}", seen[2]);
}

/// [`fake_registry`] on a given port.
fn fake_registry_on(
    port: u16,
    answers: Vec<(&'static str, String)>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    serve(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        answers,
    )
}

fn serve(
    listener: std::net::TcpListener,
    answers: Vec<(&'static str, String)>,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader, Write};
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for (expected, answer) in answers {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                request.push_str(&line);
            }
            assert!(
                request.starts_with(expected),
                "expected `{expected}`, got:\n{request}"
            );
            seen.push(request);
            let mut stream = stream;
            stream.write_all(answer.as_bytes()).unwrap();
        }
        seen
    });
    (host, handle)
}

#[test]
fn without_a_digest_header_the_body_is_hashed() {
    let body = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}"#;
    let (host, handle) = fake_registry(vec![
        (
            "HEAD /v2/library/x/manifests/latest ",
            answer("200 OK", &[("Content-Type", INDEX)], ""),
        ),
        (
            "GET /v2/library/x/manifests/latest ",
            answer("200 OK", &[("Content-Type", INDEX)], body),
        ),
    ]);
    let registry = crate::registry::Registry::with_credentials(Credentials::default());
    let got = registry.resolve(&format!("{host}/library/x")).unwrap();
    use sha2::Digest;
    assert_eq!(
        got,
        format!("sha256:{:x}", sha2::Sha256::digest(body.as_bytes()))
    );
    handle.join().unwrap();
}

#[test]
fn a_schema_1_manifest_and_a_plain_http_realm_are_refused() {
    let (host, handle) = fake_registry(vec![(
        "HEAD /v2/old/manifests/1 ",
        answer(
            "200 OK",
            &[(
                "Content-Type",
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
            )],
            "",
        ),
    )]);
    let registry = crate::registry::Registry::with_credentials(Credentials::default());
    let failure = registry.resolve(&format!("{host}/old:1")).unwrap_err();
    assert!(
        failure.message.contains("manifest.v1+prettyjws"),
        "{}",
        failure.message
    );
    assert!(!failure.not_found);
    handle.join().unwrap();
    let (host, handle) = fake_registry(vec![(
        "HEAD /v2/x/manifests/1 ",
        answer(
            "401 Unauthorized",
            &[(
                "WWW-Authenticate",
                r#"Bearer realm="http://auth.example.com/token""#,
            )],
            "",
        ),
    )]);
    let failure = registry.resolve(&format!("{host}/x:1")).unwrap_err();
    assert!(
        failure.message.contains("which is not HTTPS"),
        "{}",
        failure.message
    );
    handle.join().unwrap();
}
