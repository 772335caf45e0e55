//! The closed sets of names every phase shares: node names, stage kinds,
//! builders, output formats, parameter types, ports, network and sharing
//! modes. Each set is one enum, parsed in one place: `keywords!` gives
//! it `ALL` (in the order helps list them), `parse` and `name`.

/// An enum whose variants are spelled as keywords of the language, with
/// `ALL` (in written order: helps and suggestions list them so), `parse`
/// (the keyword to the variant) and `name` (the variant to its keyword).
macro_rules! keywords {
    (
        $(#[$meta:meta])*
        pub enum $enum:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $name:literal,)*
        }
    ) => {
        $(#[$meta])*
        pub enum $enum {
            $($(#[$variant_meta])* $variant,)*
        }

        impl $enum {
            /// Every keyword of the set, in the order helps list them.
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)*];

            /// The variant a keyword names, if it names one.
            pub fn parse(name: &str) -> Option<$enum> {
                match name {
                    $($name => Some($enum::$variant),)*
                    _ => None,
                }
            }

            /// The keyword as the language spells it.
            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }

            /// The keywords of [`Self::ALL`], for helps and suggestions.
            pub fn names() -> impl Iterator<Item = &'static str> + Clone {
                Self::ALL.iter().map(|k| k.name())
            }

            /// The keywords as helps list them: `a, b, c`.
            #[allow(dead_code, reason = "not every closed set is listed in a help")]
            pub fn listed() -> String {
                Self::names().collect::<Vec<_>>().join(", ")
            }
        }

        /// The CLI spells the set as the language does.
        impl clap::ValueEnum for $enum {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }

            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.name()))
            }
        }
    };
}

keywords! {
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
    pub enum StageKind {
        /// A builder: never an image on its own.
        Stage => "stage",
        /// A runtime target: becomes an image.
        Image => "image",
    }
}

impl StageKind {
    /// [`StageKind::name`], under the name `plan/optimize.rs` calls.
    pub fn keyword(self) -> &'static str {
        self.name()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Port {
    pub number: u16,
    pub protocol: Protocol,
}

keywords! {
    /// The protocol of a port: `8080` (tcp), `"53/udp"`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
    pub enum Protocol {
        Tcp => "tcp",
        Udp => "udp",
    }
}

keywords! {
    /// `run ... network=`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
    pub enum Network {
        Default => "default",
        None => "none",
        Host => "host",
    }
}

keywords! {
    /// `cache ... sharing=`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
    pub enum Sharing {
        Shared => "shared",
        Private => "private",
        Locked => "locked",
    }
}

keywords! {
    /// `buildah from --pull=...` for base images and `copy image=` sources
    /// in the Buildah script (`compile --pull`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum PullPolicy {
        /// Pull even when the image is present.
        Always => "always",
        /// Pull only images that are not in local storage.
        #[default]
        Missing => "missing",
        /// Never pull: every image must be in local storage.
        Never => "never",
    }
}

keywords! {
    /// Whose layer cache the cache model follows (`explain --builder`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum CacheBuilder {
        /// BuildKit: only filesystem changes chain; config (ENV, USER,
        /// SHELL, ARG) keys later RUNs only; labels and the like key nothing;
        /// `COPY --link` does not depend on what came before it.
        #[default]
        BuildKit => "buildkit",
        /// The classic builder (`DOCKER_BUILDKIT=0`): every instruction is
        /// an image, and each keys everything after it.
        Classic => "classic",
        /// `buildah build --layers`: a layer per instruction, chained like
        /// the classic builder.
        Buildah => "buildah",
    }
}

keywords! {
    /// A builder that reads the emitted Dockerfile (`output ... builder=`).
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub enum Builder {
        /// BuildKit with the current Dockerfile frontend (Docker 23+, buildx).
        #[default]
        BuildKit => "buildkit",
        /// Docker 20.10's built-in BuildKit (Dockerfile frontend 1.2), offline:
        /// no `# syntax=` frontend can be fetched.
        Docker2010 => "docker-20.10",
        /// `buildah build` 1.28 with its default OCI image format.
        Buildah128 => "buildah-1.28",
        /// `buildah build --format docker` 1.28.
        Buildah128Docker => "buildah-1.28-docker",
    }
}

impl Builder {
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

keywords! {
    /// What `compile --emit` prints; a Dockerfile also names its builder.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Format {
        Dockerfile => "dockerfile",
        Buildah => "buildah",
    }
}

keywords! {
    /// What an `output` writes (`format=`): what `compile --emit` prints,
    /// or a bake file naming another output's Dockerfile.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum OutputKind {
        Dockerfile => "dockerfile",
        Buildah => "buildah",
        /// A `docker buildx bake` file (JSON) for a Dockerfile output.
        Bake => "bake",
        /// A `.dockerignore` that leaves out all the spec does not read.
        Dockerignore => "dockerignore",
    }
}

keywords! {
    /// A template parameter's `type=`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum ParamType {
        String => "string",
        Integer => "integer",
        Boolean => "boolean",
        /// Strings. Written as one string of whitespace-separated items.
        List => "list",
        /// One string out of `choices`.
        OneOf => "one-of",
    }
}

/// Whether an `add` source is fetched rather than read from the context:
/// the two schemes every builder fetches.
pub fn is_url(s: &str) -> bool {
    s.starts_with("https://") || s.starts_with("http://")
}

keywords! {
    /// The nodes of a spec's top level.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TopNode {
        Stowplan => "stowplan",
        Output => "output",
        Stage => "stage",
        Image => "image",
        Template => "template",
        Include => "include",
        Allow => "allow",
        /// A global build argument.
        Arg => "arg",
        Group => "group",
    }
}

keywords! {
    /// The nodes of a stage's or an image's body.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum BodyNode {
        From => "from",
        Platform => "platform",
        /// The folder, under the spec's, that the stage's context paths are in.
        Context => "context",
        /// Images only.
        Platforms => "platforms",
        /// Images only.
        Tag => "tag",
        Artifact => "artifact",
        Workdir => "workdir",
        Env => "env",
        Arg => "arg",
        Label => "label",
        Expose => "expose",
        User => "user",
        Volume => "volume",
        Healthcheck => "healthcheck",
        Shell => "shell",
        StopSignal => "stopsignal",
        Entrypoint => "entrypoint",
        Cmd => "cmd",
        Run => "run",
        Step => "step",
        Copy => "copy",
        Add => "add",
    }
}

impl BodyNode {
    /// What a template's `lock` may name: anything a use's block could add
    /// (a template always decides its image's base and artifacts).
    pub fn lockable(self) -> bool {
        !matches!(self, BodyNode::From | BodyNode::Artifact)
    }
}

keywords! {
    /// The nodes of a `step`.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum StepNode {
        Input => "input",
        Run => "run",
        Cache => "cache",
        Secret => "secret",
        Bind => "bind",
        Tmpfs => "tmpfs",
        Ssh => "ssh",
        Writes => "writes",
        Reads => "reads",
        Cost => "cost",
    }
}

keywords! {
    /// The nodes of a `template`; `when` may also appear anywhere in its body.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum TemplateNode {
        Param => "param",
        Lock => "lock",
        Stage => "stage",
        Image => "image",
        When => "when",
    }
}
