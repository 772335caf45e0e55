//! The large generated spec of the validation benchmark
//! (`compiler/benches/validate.rs`), shared with the fast parser's tests
//! (`syntax/fastkdl/tests.rs`), which check that it takes the fast path.

use std::fmt::Write as _;

/// `stages` builder stages of 4 artifacts each, in chains of 4 (`from
/// stage=`), and one image per 5 stages copying every artifact of them.
pub fn generate(stages: usize) -> String {
    let mut s = String::from("stowplan 1\n");
    for i in 0..stages {
        let _ = writeln!(s, "stage \"s{i}\" {{");
        if i % 4 == 0 {
            let _ = writeln!(s, "    from \"golang:1.22.5-bookworm\"");
        } else {
            let _ = writeln!(s, "    from stage=\"s{}\"", i - 1);
        }
        let _ = writeln!(s, "    workdir \"/src\"");
        let _ = writeln!(
            s,
            "    step \"build\" {{\n        input \"go.mod\" \"go.sum\" \"pkg{i}/\"\n        run \"go build -o /out/ ./pkg{i}/...\"\n        cache \"/go/pkg/mod\" \"/root/.cache/go-build\"\n    }}"
        );
        for a in 0..4 {
            let _ = writeln!(s, "    artifact \"a{a}\" \"/out/bin{a}\" static=#true");
        }
        s.push_str("}\n");
    }
    for image in 0..stages / 5 {
        let _ = writeln!(
            s,
            "image \"img{image}\" {{\n    from \"gcr.io/distroless/static-debian12:nonroot\""
        );
        for i in image * 5..image * 5 + 5 {
            for a in 0..4 {
                let _ = writeln!(
                    s,
                    "    copy artifact=\"s{i}.a{a}\" to=\"/usr/local/bin/s{i}-a{a}\""
                );
            }
        }
        let _ = writeln!(
            s,
            "    user \"65532\"\n    entrypoint \"/usr/local/bin/s{}-a0\"\n}}",
            image * 5
        );
    }
    s
}
