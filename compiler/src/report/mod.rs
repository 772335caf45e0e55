//! What stowplan tells people: `explain`'s verdicts, the flow graph as
//! DOT/Mermaid/JSON, and diagnostics rendered as text or JSON.

pub mod explain;
pub mod graph;
pub mod render;
pub mod sarif;
