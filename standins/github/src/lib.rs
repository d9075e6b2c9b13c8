//! Local stand-in for GitHub's REST API (being written).
