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
