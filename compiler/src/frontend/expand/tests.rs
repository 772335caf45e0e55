//! A value given to a template reaches a script as exactly one shell
//! word: expansion quotes it inside the KDL tree, and `sh` prints it back.

use std::process::Command;

use proptest::prelude::*;

use crate::base::source::SourceFile;
use crate::driver::{self, Options};
use crate::plan::ir as plan;
use crate::plan::lower::Selection;
use crate::testkit::{self, hostile};

/// The `sh -c` script of the first RUN in the plan whose script starts with `prefix`.
fn script(plan: &plan::Plan, prefix: &str) -> String {
    plan.stages
        .iter()
        .flat_map(|s| &s.instructions)
        .find_map(|i| match &i.value {
            plan::Instruction::Run(plan::Run {
                command: plan::Command::Shell { script, .. },
                ..
            }) if script.starts_with(prefix) => Some(script.clone()),
            _ => None,
        })
        .expect("the RUN is planned")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A value given to a template reaches a script as exactly one shell
    /// word: `sh` prints it back unchanged, whatever quotes, `$`, `;`,
    /// backticks or line breaks it holds.
    #[test]
    fn a_parameter_is_one_shell_word(value in "[ -~\n\t]{0,24}") {
        let text = format!(
            "stowplan 1\n\
             template \"t\" {{\n\
                 param \"v\" doc=\"a value\"\n\
                 param \"l\" type=\"list\" default=\"a b\" doc=\"a list\"\n\
                 image {{\n\
                     from \"debian:bookworm-slim\"\n\
                     run \"printf '[%s]' {{{{v}}}} {{{{l}}}}\"\n\
                     cmd \"/app\"\n\
                 }}\n\
             }}\n\
             image \"app\" template=\"t\" v={} l={}\n",
            hostile::kdl(&value),
            hostile::kdl(&value),
        );
        let source = SourceFile::new("stowplan.kdl", text);
        let checked = driver::check(&source, &Options::default())
            .unwrap_or_else(|d| panic!("{}", testkit::render_all(&d)));
        let plan = driver::plan(&source, &checked.output, &Selection::All);
        let script = script(&plan, "printf");
        let out = Command::new("sh").arg("-c").arg(&script).output().unwrap();
        let items: String = value
            .split_whitespace()
            .map(|i| format!("[{i}]"))
            .collect();
        prop_assert_eq!(String::from_utf8_lossy(&out.stdout), format!("[{value}]{items}"));
    }
}
