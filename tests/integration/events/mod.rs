//! Events and event listeners, and Supervisor's own end-to-end suite.

mod differential;
mod e2e;
mod harness;
mod listeners;
