//! `stowplan lock`'s one contact with the outside: an image reference's
//! manifest digest, asked of its registry through the OCI distribution
//! API (spec/lock.md). The only module that touches the network
//! (`tests/suite/layering.rs`); only the driver's `lock` uses it.
//!
//! `HEAD /v2/NAME/manifests/TAG` with the four manifest media types in
//! `Accept`; the digest is `Docker-Content-Digest`, or the sha256 of the
//! body of a `GET` when a registry does not send it. A multi-platform
//! index stays an index: its digest is what a pull of the tag resolves,
//! and a builder picks the platform from it. A `401` answers with a
//! challenge: Basic (the login from `auth.rs`) or Bearer (a token from
//! the challenge's realm, with the login when there is one). HTTPS
//! everywhere but on the loopback (`localhost`, `127.0.0.0/8`, `[::1]`),
//! which is plain HTTP, as Docker treats it by default.

pub(crate) mod auth;

use std::time::Duration;

use sha2::Digest;

use crate::plan::lock::is_digest;
use crate::policy::Reference;
use crate::registry::auth::{Challenge, Credentials, Login};

/// The manifest types stowplan accepts, in preference order.
pub(crate) const MANIFEST_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Manifests are a few KiB; an index of many platforms a few dozen.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// Why a reference did not resolve.
#[derive(Debug)]
pub(crate) struct Failure {
    /// The registry answered that the repository or the tag does not exist.
    pub(crate) not_found: bool,
    pub(crate) message: String,
    pub(crate) help: String,
}

/// Where a reference lives, as the distribution API addresses it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `docker.io`, `ghcr.io`, `127.0.0.1:5000`: as credentials name it.
    pub(crate) host: String,
    /// `https://registry-1.docker.io`, `http://127.0.0.1:5000`.
    pub(crate) base: String,
    /// `library/golang`.
    pub(crate) path: String,
    /// The tag, `latest` when none is written.
    pub(crate) tag: String,
}

/// Plain HTTP only on the loopback: `localhost`, `127.0.0.0/8`, `[::1]`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost"
        || name == "::1"
        || name
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Endpoint {
    pub(crate) fn of(reference: &str) -> Endpoint {
        let parsed = Reference::parse(reference);
        let (host, path) = parsed
            .repository
            .split_once('/')
            .map(|(h, p)| (h.to_owned(), p.to_owned()))
            .unwrap_or_default();
        let api_host = if host == "docker.io" {
            "registry-1.docker.io"
        } else {
            &host
        };
        let scheme = if is_loopback(&host) { "http" } else { "https" };
        Endpoint {
            base: format!("{scheme}://{api_host}"),
            host,
            path,
            tag: parsed.tag.unwrap_or_else(|| "latest".to_owned()),
        }
    }

    fn manifest_url(&self) -> String {
        format!("{}/v2/{}/manifests/{}", self.base, self.path, self.tag)
    }
}

/// An HTTP client and the credentials it may send.
pub(crate) struct Registry {
    agent: ureq::Agent,
    credentials: Credentials,
}

type Response = ureq::http::Response<ureq::Body>;

impl Registry {
    /// A client with the credentials of the usual files ([`auth`]).
    pub(crate) fn new() -> Result<Registry, String> {
        Ok(Registry::with_credentials(Credentials::load()?))
    }

    pub(crate) fn with_credentials(credentials: Credentials) -> Registry {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(10)))
            .timeout_global(Some(Duration::from_secs(60)))
            .user_agent(concat!("stowplan/", env!("CARGO_PKG_VERSION")))
            .tls_config(tls)
            .build()
            .into();
        Registry { agent, credentials }
    }

    /// The digest the registry serves for a reference's tag.
    pub(crate) fn resolve(&self, reference: &str) -> Result<String, Failure> {
        let endpoint = Endpoint::of(reference);
        let login = self.credentials.find(&endpoint.host, &endpoint.path);
        let mut authorization: Option<String> = None;
        let mut challenged = false;
        loop {
            let response = self.manifest(&endpoint, reference, "HEAD", authorization.as_deref())?;
            match response.status().as_u16() {
                200 => {
                    check_media_type(&response, &endpoint, reference)?;
                    if let Some(digest) = header(&response, "docker-content-digest")
                        && is_digest(&digest)
                    {
                        return Ok(digest);
                    }
                    // No digest in the answer: the body's own.
                    let mut response =
                        self.manifest(&endpoint, reference, "GET", authorization.as_deref())?;
                    if response.status().as_u16() != 200 {
                        return Err(status_failure(&response, &endpoint, reference, login));
                    }
                    check_media_type(&response, &endpoint, reference)?;
                    let body = response
                        .body_mut()
                        .with_config()
                        .limit(MAX_MANIFEST_BYTES)
                        .read_to_vec()
                        .map_err(|e| transport(&endpoint, reference, &e))?;
                    return Ok(format!("sha256:{:x}", sha2::Sha256::digest(&body)));
                }
                401 if !challenged => {
                    challenged = true;
                    let challenge =
                        header(&response, "www-authenticate").and_then(|h| Challenge::parse(&h));
                    authorization = match challenge {
                        Some(Challenge::Basic) => match login {
                            Some(login) => Some(login.basic()),
                            None => {
                                return Err(status_failure(&response, &endpoint, reference, login));
                            }
                        },
                        Some(Challenge::Bearer {
                            realm,
                            service,
                            scope,
                        }) => {
                            let scope = scope
                                .unwrap_or_else(|| format!("repository:{}:pull", endpoint.path));
                            let token = self.token(
                                &endpoint,
                                reference,
                                &realm,
                                service.as_deref(),
                                &scope,
                                login,
                            )?;
                            Some(format!("Bearer {token}"))
                        }
                        None => {
                            return Err(status_failure(&response, &endpoint, reference, login));
                        }
                    };
                }
                _ => return Err(status_failure(&response, &endpoint, reference, login)),
            }
        }
    }

    fn manifest(
        &self,
        endpoint: &Endpoint,
        reference: &str,
        method: &str,
        authorization: Option<&str>,
    ) -> Result<Response, Failure> {
        let url = endpoint.manifest_url();
        let accept = MANIFEST_TYPES.join(", ");
        let result = if method == "HEAD" {
            let mut request = self.agent.head(&url).header("Accept", &accept);
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            request.call()
        } else {
            let mut request = self.agent.get(&url).header("Accept", &accept);
            if let Some(value) = authorization {
                request = request.header("Authorization", value);
            }
            request.call()
        };
        result.map_err(|e| transport(endpoint, reference, &e))
    }

    /// The token flow of the distribution spec: a `GET` of the realm for
    /// the service and scope, with Basic authentication when there is a
    /// login (anonymous otherwise).
    fn token(
        &self,
        endpoint: &Endpoint,
        reference: &str,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        login: Option<&Login>,
    ) -> Result<String, Failure> {
        let plain_ok = realm
            .strip_prefix("http://")
            .map(|rest| rest.split(['/', '?']).next().unwrap_or(rest))
            .is_some_and(is_loopback);
        if !(realm.starts_with("https://") || plain_ok) {
            return Err(Failure {
                not_found: false,
                message: format!(
                    "registry `{}` sends `{reference}`'s token requests to `{realm}`, which is not HTTPS",
                    endpoint.host
                ),
                help: "stowplan sends credentials over HTTPS only (plain HTTP on the loopback)"
                    .to_owned(),
            });
        }
        let mut request = self.agent.get(realm).query("scope", scope);
        if let Some(service) = service {
            request = request.query("service", service);
        }
        if let Some(login) = login {
            request = request.header("Authorization", login.basic());
        }
        let mut response = request
            .call()
            .map_err(|e| transport(endpoint, reference, &e))?;
        if response.status().as_u16() != 200 {
            return Err(status_failure(&response, endpoint, reference, login));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_MANIFEST_BYTES)
            .read_to_vec()
            .map_err(|e| transport(endpoint, reference, &e))?;
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        json.get("token")
            .or_else(|| json.get("access_token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| Failure {
                not_found: false,
                message: format!(
                    "registry `{}`'s token service `{realm}` answered without a token for `{reference}`",
                    endpoint.host
                ),
                help: "check the registry's token service".to_owned(),
            })
    }
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

/// A manifest type stowplan cannot pin (schema 1, an artifact) is refused.
fn check_media_type(
    response: &Response,
    endpoint: &Endpoint,
    reference: &str,
) -> Result<(), Failure> {
    let Some(content_type) = header(response, "content-type") else {
        return Ok(());
    };
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if MANIFEST_TYPES.contains(&media_type) {
        return Ok(());
    }
    Err(Failure {
        not_found: false,
        message: format!(
            "registry `{}` answers `{reference}` with a `{media_type}` manifest",
            endpoint.host
        ),
        help: format!(
            "stowplan locks OCI and Docker v2 manifests and indexes: {}",
            MANIFEST_TYPES.join(", ")
        ),
    })
}

/// The registry could not be reached, or the connection failed.
fn transport(endpoint: &Endpoint, reference: &str, error: &ureq::Error) -> Failure {
    Failure {
        not_found: false,
        message: format!(
            "cannot reach registry `{}` for `{reference}`: {error}",
            endpoint.host
        ),
        help: format!(
            "check the network and that `{}` serves the registry API (stowplan asks {})",
            endpoint.host, endpoint.base
        ),
    }
}

/// The registry answered, and not with the manifest.
fn status_failure(
    response: &Response,
    endpoint: &Endpoint,
    reference: &str,
    login: Option<&Login>,
) -> Failure {
    let status = response.status();
    let shown = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    match status.as_u16() {
        404 => Failure {
            not_found: true,
            message: format!(
                "registry `{}` has no `{}` in `{}` (`{reference}`)",
                endpoint.host, endpoint.tag, endpoint.path
            ),
            help: "check the tag and the repository's name; `stowplan lock` pins only references that exist".to_owned(),
        },
        401 | 403 => {
            let help = match login {
                Some(_) => format!(
                    "the registry refused the login stowplan found for `{}`; log in again (`podman login {}` or `docker login {}`)",
                    endpoint.host, endpoint.host, endpoint.host
                ),
                None => format!(
                    "log in with `podman login {}` or `docker login {}`, or point REGISTRY_AUTH_FILE at an auth.json; stowplan reads $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, ~/.config/containers/auth.json and ~/.docker/config.json",
                    endpoint.host, endpoint.host
                ),
            };
            Failure {
                not_found: false,
                message: format!(
                    "registry `{}` refused access to `{reference}` ({shown})",
                    endpoint.host
                ),
                help,
            }
        }
        _ => Failure {
            not_found: false,
            message: format!(
                "registry `{}` answered {shown} for `{reference}`",
                endpoint.host
            ),
            help: "try again later, or check the registry".to_owned(),
        },
    }
}

#[cfg(test)]
mod tests;
