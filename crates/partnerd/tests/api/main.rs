//! Black-box tests of partnerd: a real server on a random port, real HTTP, each test on SQLite
//! and PostgreSQL. One binary (one link) with a module per capability.

// Test code: a failed unwrap is a failed test, and `pub` here only crosses test modules.
#![allow(clippy::unwrap_used, unreachable_pub)]

#[macro_use]
mod common;

mod analytics;
mod app_reseller;
mod bad_input;
mod billing;
mod browser;
mod cli;
mod cosell;
mod crash;
mod cursor_paging;
mod customers;
mod dashboard;
mod dashboard_browser;
mod dashboard_commerce;
mod dashboard_cosell;
mod dashboard_listings;
mod dashboard_operator;
mod dashboard_reseller;
mod foundation;
mod hardening;
mod idempotency;
mod leads;
mod listings;
mod openapi;
mod ops;
mod payment_methods;
mod quotes;
mod read_caches;
mod sandbox;
mod schema;
mod subscriptions;
mod tickets;
mod usage;
mod webhooks;
mod webhooks_wake;
mod whitelabel;
