//! Drawing the flow graph: DOT, Mermaid and JSON, with the critical path
//! (the longest chain of stages that must build one after another) and the
//! waves of stages that can build in parallel.

use std::fmt::Write as _;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use serde::Serialize;

use crate::middle::flow::{Edge, FlowGraph, Node};
use crate::middle::resolve::{Spec, StageId};

/// The build schedule of the stages and images.
#[derive(Debug, Serialize)]
pub struct Schedule {
    /// Stage names along the longest dependency chain, first to last.
    pub critical_path: Vec<String>,
    /// `waves[n]`: stages whose longest chain of dependencies has `n` links;
    /// the stages of one wave can build in parallel.
    pub waves: Vec<Vec<String>>,
}

pub fn schedule(spec: &Spec) -> Schedule {
    // Longest path by stage count, in build order (a topological order).
    let n = spec.stages.len();
    let mut depth = vec![0usize; n];
    let mut previous: Vec<Option<StageId>> = vec![None; n];
    for id in &spec.order {
        for need in &spec.needs[id.0] {
            if depth[need.0] + 1 > depth[id.0] {
                depth[id.0] = depth[need.0] + 1;
                previous[id.0] = Some(*need);
            }
        }
    }
    let mut waves: Vec<Vec<String>> = Vec::new();
    for id in &spec.order {
        let d = depth[id.0];
        if waves.len() <= d {
            waves.resize(d + 1, Vec::new());
        }
        waves[d].push(spec.stage(*id).name.value.clone());
    }
    let mut critical_path = Vec::new();
    // Ties go to the earliest declared stage, for stable output.
    let mut cursor = spec
        .order
        .iter()
        .copied()
        .max_by(|a, b| depth[a.0].cmp(&depth[b.0]).then(b.0.cmp(&a.0)));
    while let Some(id) = cursor {
        critical_path.push(spec.stage(id).name.value.clone());
        cursor = previous[id.0];
    }
    critical_path.reverse();
    Schedule {
        critical_path,
        waves,
    }
}

fn label(node: &Node) -> (&'static str, &str) {
    match node {
        Node::Input(p) => ("input", p),
        Node::Stage(s) => ("stage", s),
        Node::Image(s) => ("image", s),
        Node::Artifact(a) => ("artifact", a),
    }
}

fn edge_label(edge: Edge) -> &'static str {
    match edge {
        Edge::Reads => "reads",
        Edge::BuiltOn => "base of",
        Edge::Produces => "produces",
        Edge::CopiedInto => "copied into",
        Edge::MountedInto => "mounted into",
    }
}

fn on_critical_path(flow: &FlowGraph, schedule: &Schedule, a: NodeIndex, b: NodeIndex) -> bool {
    let name = |i: NodeIndex| match &flow.graph[i] {
        Node::Stage(s) | Node::Image(s) => Some(s.as_str()),
        _ => None,
    };
    let (Some(a), Some(b)) = (name(a), name(b)) else {
        return false;
    };
    schedule
        .critical_path
        .windows(2)
        .any(|w| w[0] == a && w[1] == b)
}

/// Artifact edges of the critical path: stage → artifact → stage.
fn artifact_on_path(flow: &FlowGraph, schedule: &Schedule, artifact: NodeIndex) -> bool {
    let producers = flow.graph.neighbors_directed(artifact, Direction::Incoming);
    producers.into_iter().any(|p| {
        flow.graph
            .neighbors_directed(artifact, Direction::Outgoing)
            .any(|c| on_critical_path(flow, schedule, p, c))
    })
}

fn edge_is_critical(flow: &FlowGraph, schedule: &Schedule, a: NodeIndex, b: NodeIndex) -> bool {
    on_critical_path(flow, schedule, a, b)
        || (matches!(flow.graph[b], Node::Artifact(_)) && artifact_on_path(flow, schedule, b))
        || (matches!(flow.graph[a], Node::Artifact(_))
            && flow
                .graph
                .neighbors_directed(a, Direction::Incoming)
                .any(|p| on_critical_path(flow, schedule, p, b)))
}

fn dot_quote(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialize")
}

pub fn to_dot(spec: &Spec) -> String {
    let flow = FlowGraph::build(spec);
    let schedule = schedule(spec);
    let mut out =
        String::from("digraph stowplan {\n  rankdir=LR;\n  node [fontname=\"Helvetica\"];\n");
    for index in flow.graph.node_indices() {
        let (kind, name) = label(&flow.graph[index]);
        let shape = match kind {
            "input" => "shape=note, color=gray40",
            "stage" => "shape=box, style=rounded",
            "image" => "shape=box, style=\"rounded,bold\", color=navy",
            _ => "shape=ellipse, style=dashed",
        };
        let _ = writeln!(
            out,
            "  n{} [label={}, {shape}];",
            index.index(),
            dot_quote(&format!("{kind}: {name}"))
        );
    }
    for edge in flow.graph.edge_references() {
        let critical = edge_is_critical(&flow, &schedule, edge.source(), edge.target());
        let style = if critical {
            ", color=red, penwidth=2"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  n{} -> n{} [label={}{style}];",
            edge.source().index(),
            edge.target().index(),
            dot_quote(edge_label(*edge.weight()))
        );
    }
    for wave in schedule.waves.iter().filter(|w| w.len() > 1) {
        let members: Vec<String> = flow
            .graph
            .node_indices()
            .filter(
                |i| matches!(&flow.graph[*i], Node::Stage(s) | Node::Image(s) if wave.contains(s)),
            )
            .map(|i| format!("n{}", i.index()))
            .collect();
        let _ = writeln!(out, "  {{ rank=same; {}; }}", members.join("; "));
    }
    out.push_str("}\n");
    out
}

fn mermaid_text(s: &str) -> String {
    // Mermaid reads `#quot;` inside a quoted label; nothing else is special there.
    s.replace('"', "#quot;")
}

pub fn to_mermaid(spec: &Spec) -> String {
    let flow = FlowGraph::build(spec);
    let schedule = schedule(spec);
    let mut out = String::from("flowchart LR\n");
    for index in flow.graph.node_indices() {
        let (kind, name) = label(&flow.graph[index]);
        let text = mermaid_text(&format!("{kind}: {name}"));
        let (open, close) = match kind {
            "input" => ("[/", "/]"),
            "stage" => ("(", ")"),
            "image" => ("[[", "]]"),
            _ => ("([", "])"),
        };
        let _ = writeln!(out, "  n{}{open}\"{text}\"{close}", index.index());
    }
    let mut critical_links = Vec::new();
    for (n, edge) in flow.graph.edge_references().enumerate() {
        let _ = writeln!(
            out,
            "  n{} -->|{}| n{}",
            edge.source().index(),
            edge_label(*edge.weight()),
            edge.target().index()
        );
        if edge_is_critical(&flow, &schedule, edge.source(), edge.target()) {
            critical_links.push(n.to_string());
        }
    }
    if !critical_links.is_empty() {
        let _ = writeln!(
            out,
            "  linkStyle {} stroke:#d00,stroke-width:3px",
            critical_links.join(",")
        );
    }
    out
}

#[derive(Serialize)]
struct JsonGraph<'a> {
    nodes: Vec<&'a Node>,
    edges: Vec<JsonEdge>,
    critical_path: Vec<String>,
    waves: Vec<Vec<String>>,
}

#[derive(Serialize)]
struct JsonEdge {
    from: usize,
    to: usize,
    kind: Edge,
}

pub fn to_json(spec: &Spec) -> String {
    let flow = FlowGraph::build(spec);
    let schedule = schedule(spec);
    let graph = JsonGraph {
        nodes: flow.graph.node_weights().collect(),
        edges: flow
            .graph
            .edge_references()
            .map(|e| JsonEdge {
                from: e.source().index(),
                to: e.target().index(),
                kind: *e.weight(),
            })
            .collect(),
        critical_path: schedule.critical_path,
        waves: schedule.waves,
    };
    let mut text = serde_json::to_string_pretty(&graph).expect("the graph serializes");
    text.push('\n');
    text
}
