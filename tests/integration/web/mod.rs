//! The web page, by HTTP and in a real browser.

mod actions;
mod browser;
mod common;
mod cross_site;
