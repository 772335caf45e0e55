//! Registry credentials from where podman, buildah, skopeo and docker keep
//! them (never from a spec), and the registry's `WWW-Authenticate`
//! challenge.
//!
//! Files, first found wins (containers-auth.json(5), then docker's):
//! `$REGISTRY_AUTH_FILE` (alone, when set), `$XDG_RUNTIME_DIR/containers/auth.json`,
//! `~/.config/containers/auth.json`, `$DOCKER_CONFIG/config.json` or
//! `~/.docker/config.json`. In each, `auths` maps a registry (or a
//! `registry/namespace` prefix, or docker's legacy `https://host/v1/`)
//! to `{"auth": base64("user:password")}`. Credential helpers
//! (`credHelpers`, `credsStore`) are programs and are not run.

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine;

/// A user name and password for one registry.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Login {
    pub(crate) user: String,
    pub(crate) password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Login({}, <password>)", self.user)
    }
}

impl Login {
    /// The `Authorization` header's value for Basic authentication.
    pub(crate) fn basic(&self) -> String {
        let pair = format!("{}:{}", self.user, self.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    }
}

/// Every `auths` entry of the first credentials file found.
#[derive(Clone, Debug, Default)]
pub(crate) struct Credentials {
    /// Keys normalized: no scheme, no trailing `/v1/` or `/`.
    auths: BTreeMap<String, Login>,
    /// The file they came from, for messages.
    pub(crate) file: Option<PathBuf>,
}

/// The files looked at, in order.
pub(crate) fn candidate_files() -> Vec<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(file) = var("REGISTRY_AUTH_FILE") {
        return vec![PathBuf::from(file)];
    }
    let mut files = Vec::new();
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        files.push(PathBuf::from(dir).join("containers/auth.json"));
    }
    let home = var("HOME").map(PathBuf::from);
    if let Some(home) = &home {
        files.push(home.join(".config/containers/auth.json"));
    }
    match var("DOCKER_CONFIG") {
        Some(dir) => files.push(PathBuf::from(dir).join("config.json")),
        None => {
            if let Some(home) = &home {
                files.push(home.join(".docker/config.json"));
            }
        }
    }
    files
}

/// How large a credentials file may be (they hold a few lines).
const MAX_FILE_BYTES: u64 = 1 << 20;

impl Credentials {
    /// Reads the first credentials file that exists. One that cannot be
    /// read or parsed is an error naming it.
    pub(crate) fn load() -> Result<Credentials, String> {
        for file in candidate_files() {
            let Ok(meta) = std::fs::metadata(&file) else {
                continue;
            };
            if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
                return Err(format!(
                    "{} is not a credentials file (not a regular file of at most 1 MiB)",
                    file.display()
                ));
            }
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let mut credentials = Credentials::parse(&text)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            credentials.file = Some(file);
            return Ok(credentials);
        }
        Ok(Credentials::default())
    }

    /// The `auths` of an auth.json or a docker config.json.
    pub(crate) fn parse(text: &str) -> Result<Credentials, String> {
        let json: serde_json::Value =
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let mut auths = BTreeMap::new();
        let entries = json.get("auths").and_then(|a| a.as_object());
        for (key, entry) in entries.into_iter().flatten() {
            let login = if let Some(encoded) = entry.get("auth").and_then(|a| a.as_str()) {
                if encoded.is_empty() {
                    continue;
                }
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| format!("the `auth` of `{key}` is not base64: {e}"))?;
                let decoded = String::from_utf8(decoded)
                    .map_err(|_| format!("the `auth` of `{key}` is not UTF-8"))?;
                let Some((user, password)) = decoded.split_once(':') else {
                    return Err(format!("the `auth` of `{key}` is not `user:password`"));
                };
                Login {
                    user: user.to_owned(),
                    password: password.to_owned(),
                }
            } else {
                let field = |name: &str| entry.get(name).and_then(|v| v.as_str());
                match (field("username"), field("password")) {
                    (Some(user), Some(password)) => Login {
                        user: user.to_owned(),
                        password: password.to_owned(),
                    },
                    _ => continue,
                }
            };
            auths.insert(normalize_key(key), login);
        }
        Ok(Credentials { auths, file: None })
    }

    /// The login for a repository (`host/namespace/name`): the most
    /// specific key that is the repository or a parent of it, as
    /// containers-auth.json(5) says; Docker Hub under any of its names.
    pub(crate) fn find(&self, host: &str, path: &str) -> Option<&Login> {
        let hosts: &[&str] = if host == "docker.io" {
            &["docker.io", "index.docker.io", "registry-1.docker.io"]
        } else {
            &[host]
        };
        for host in hosts {
            let mut key = format!("{host}/{path}");
            loop {
                if let Some(login) = self.auths.get(&key) {
                    return Some(login);
                }
                match key.rsplit_once('/') {
                    Some((parent, _)) => key = parent.to_owned(),
                    None => break,
                }
            }
        }
        None
    }
}

/// `https://index.docker.io/v1/` → `index.docker.io`; `ghcr.io/acme` stays.
fn normalize_key(key: &str) -> String {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let key = key.strip_suffix('/').unwrap_or(key);
    let key = key.strip_suffix("/v1").unwrap_or(key);
    let key = key.strip_suffix("/v2").unwrap_or(key);
    key.to_owned()
}

/// A registry's `WWW-Authenticate` challenge.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    /// The token flow: ask `realm` for a token for `service` and `scope`.
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Basic,
}

impl Challenge {
    /// `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`.
    pub(crate) fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = parse_params(rest);
        Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        })
    }
}

/// `a="x", b=y` → {a: x, b: y}; quoted values may hold commas and `\"`.
fn parse_params(text: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars
            .by_ref()
            .take_while(|c| *c != '=')
            .collect::<String>()
            .trim()
            .to_ascii_lowercase();
        if name.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars
                .by_ref()
                .take_while(|c| *c != ',')
                .collect::<String>()
                .trim()
                .to_owned();
        }
        params.insert(name, value);
    }
    params
}
