//! Placeholder replaced by the method documentation table.
pub fn help(_name: &str) -> Option<&'static str> {
    None
}
pub fn signature(_name: &str) -> Option<Vec<&'static str>> {
    None
}
