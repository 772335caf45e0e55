//! The closed sets of names every phase shares: stage kinds, builders,
//! ports, network and sharing modes. Each is parsed in one place.

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum StageKind {
    /// A builder: never an image on its own.
    Stage,
    /// A runtime target: becomes an image.
    Image,
}

impl StageKind {
    pub fn keyword(self) -> &'static str {
        match self {
            StageKind::Stage => "stage",
            StageKind::Image => "image",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Protocol {
    Tcp,
    Udp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Network {
    Default,
    None,
    Host,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum Sharing {
    Shared,
    Private,
    Locked,
}

/// A builder that reads the emitted Dockerfile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Builder {
    /// BuildKit with the current Dockerfile frontend (Docker 23+, buildx).
    #[default]
    BuildKit,
    /// Docker 20.10's built-in BuildKit (Dockerfile frontend 1.2), offline:
    /// no `# syntax=` frontend can be fetched.
    Docker2010,
    /// `buildah build` 1.28 with its default OCI image format.
    Buildah128,
    /// `buildah build --format docker` 1.28.
    Buildah128Docker,
}

impl Builder {
    pub const ALL: &'static [(&'static str, Builder)] = &[
        ("buildkit", Builder::BuildKit),
        ("docker-20.10", Builder::Docker2010),
        ("buildah-1.28", Builder::Buildah128),
        ("buildah-1.28-docker", Builder::Buildah128Docker),
    ];

    pub fn name(self) -> &'static str {
        Builder::ALL
            .iter()
            .find(|(_, b)| *b == self)
            .map_or("buildkit", |(n, _)| n)
    }

    pub fn parse(name: &str) -> Option<Builder> {
        Builder::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    }

    /// It commits a layer for every instruction, metadata included, and
    /// a changed layer rebuilds every instruction after it (BuildKit's
    /// metadata is free and outside the layer chain).
    pub fn layer_per_instruction(self) -> bool {
        self.is_buildah()
    }

    pub(crate) fn is_buildah(self) -> bool {
        matches!(self, Builder::Buildah128 | Builder::Buildah128Docker)
    }
}

/// Whether an `add` source is fetched rather than read from the context:
/// the two schemes every builder fetches.
pub fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

/// The node names of the language, per place they may appear.
pub const TOP_NODES: &[&str] = &[
    "stowplan", "output", "stage", "image", "template", "include",
];
pub const BODY_NODES: &[&str] = &[
    "from",
    "platform",
    "tag",
    "artifact",
    "workdir",
    "env",
    "arg",
    "label",
    "expose",
    "user",
    "volume",
    "healthcheck",
    "shell",
    "stopsignal",
    "entrypoint",
    "cmd",
    "run",
    "step",
    "copy",
    "add",
];
pub const STEP_NODES: &[&str] = &[
    "input", "run", "cache", "secret", "bind", "tmpfs", "ssh", "writes", "reads", "cost",
];
