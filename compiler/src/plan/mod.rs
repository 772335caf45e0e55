//! The backend-neutral IR (`ir`), lowering a resolved spec into it, the
//! image map, the base-image lock and the layer-order optimizer.

pub mod contexts;
pub mod image_map;
pub mod inputs;
pub mod ir;
pub mod lock;
pub mod lower;
pub mod optimize;
pub mod sources;
