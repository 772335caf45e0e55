//! The backend-neutral IR (`ir`), lowering a resolved spec into it, the
//! image map and the layer-order optimizer.

pub mod image_map;
pub mod inputs;
pub mod ir;
pub mod lower;
pub mod optimize;
pub mod sources;
