//! Configuration: reads `supervisord.conf` exactly as Python Supervisor 4.3.0
//! reads it and turns it into plain typed structs. Nothing here spawns or
//! touches process state.

pub mod ini;
