use super::*;

#[test]
fn references_are_normalized_as_registries_pull_them() {
    let r = Reference::parse("golang:1.22.5-bookworm");
    assert_eq!(r.repository, "docker.io/library/golang");
    assert_eq!(r.tag.as_deref(), Some("1.22.5-bookworm"));
    assert_eq!(
        Reference::parse("acme/tool").repository,
        "docker.io/acme/tool"
    );
    assert_eq!(
        Reference::parse("localhost:5000/x:1").repository,
        "localhost:5000/x"
    );
    let r = Reference::parse("gcr.io/distroless/static-debian12:nonroot@sha256:00");
    assert_eq!(r.repository, "gcr.io/distroless/static-debian12");
    assert_eq!(r.digest.as_deref(), Some("sha256:00"));
    assert!(r.allowed_by(&["gcr.io/distroless".into()]));
    assert!(!r.allowed_by(&["gcr.io/distro".into()]));
    assert!(r.allowed_by(&["gcr.io".into()]));
}

#[test]
fn floating_tags_are_those_without_a_full_version() {
    for tag in [
        "golang",
        "golang:latest",
        "golang:1",
        "python:3.12-slim",
        "x:bookworm",
        "x:nonroot",
        "x:1.2.x",
    ] {
        assert!(Reference::parse(tag).floating_tag(), "{tag}");
    }
    for tag in [
        "golang:1.22.5-bookworm",
        "x:v1.2.3",
        "x:21.0.3_9-jre-jammy",
        "x:1.2.3.4",
    ] {
        assert!(!Reference::parse(tag).floating_tag(), "{tag}");
    }
}
