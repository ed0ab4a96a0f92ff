//! Log files: rotating writers, the activity log, pump threads.
