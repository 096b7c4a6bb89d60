//! Webhook delivery. Deliveries are rows created with their events (see the stores); this crate
//! sends them: [`HttpSender`] makes one signed POST, [`spawn_dispatcher`] claims due deliveries
//! and records each attempt.

mod dispatcher;
mod sender;

pub use dispatcher::{DispatcherOptions, spawn_dispatcher};
pub use sender::HttpSender;
