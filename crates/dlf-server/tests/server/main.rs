//! The server's one integration-test binary: API tests through `oneshot` (no sockets) and browser tests in
//! headless Chromium.

mod api;
mod browser;
mod budget;
mod every_widget;
mod limits;
mod practice_api;
mod practice_browser;
