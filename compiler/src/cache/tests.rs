//! The cache model on whole files: a hand-written Dockerfile against the
//! Dockerfile stowplan plans for the same project.

use crate::base::source::SourceFile;
use crate::cache::{Change, dockerfile, evaluate};
use crate::driver::{self, Options};
use crate::plan::lower::Selection;
use crate::testkit;

/// The seed Dockerfile rebuilds its module download on a source edit;
/// stowplan's go example does not.
#[test]
fn stowplan_rebuilds_less_than_the_seed() {
    let seed =
        std::fs::read_to_string(testkit::root().join("tests/cases_cache/seed_go.Dockerfile"))
            .unwrap();
    let graph = dockerfile::read(&seed).unwrap();
    let change = Change {
        paths: vec!["main.go".into()],
        ..Default::default()
    };
    let outcome = evaluate(&graph, &change);
    let needed = graph.needed(&graph.targets());
    let seed_cost = graph.rebuilt_cost(&outcome, &needed);

    let spec = testkit::root().join("examples/go-server/stowplan.kdl");
    let source = SourceFile::new("stowplan.kdl", std::fs::read_to_string(spec).unwrap());
    let checked = driver::check(&source, &Options::default()).unwrap();
    let plan = driver::plan(&source, &checked.output, &Selection::All);
    let graph = crate::report::explain::from_plan(&plan, &Default::default()).unwrap();
    let outcome = evaluate(&graph, &change);
    let needed = graph.needed(&graph.targets());
    let ours = graph.rebuilt_cost(&outcome, &needed);
    assert!(
        ours < seed_cost / 2.0,
        "stowplan {ours} vs seed {seed_cost}"
    );
}
