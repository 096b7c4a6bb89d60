//! Black-box tests of partnerd: a real server on a random port, real HTTP, each test on SQLite
//! and PostgreSQL. One binary (one link) with a module per capability.

#[macro_use]
mod common;

mod analytics;
mod cli;
mod cosell;
mod foundation;
mod listings;
mod webhooks;
