//! End-to-end tests in real headless Chromium, driven through chromedriver (Debian's `chromium` and
//! `chromium-driver`; `.ci/run` installs them). The server runs in this process on a free loopback port.
//!
//! What a learner does is what is tested: load lesson 01, drag a widget's slider with the mouse, move it with the
//! keyboard, watch the figure change, use the derive box, and find no console errors. The widget must render
//! through WebAssembly: a page that silently fell back to the server would hide a broken wasm build.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Kills chromedriver (and with it the browser) when a test ends, pass or fail.
pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .expect("bind a probe socket")
        .local_addr()
        .expect("probe address")
        .port()
}

pub(crate) fn start_driver() -> Driver {
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (apt-get install chromium chromium-driver); .ci/run installs it");
    Driver { child, port }
}

fn course_app() -> axum::Router {
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    dlf_server::app(Arc::new(dlf_server::AppState::new(&site)))
}

/// Serves `app` on a free loopback port for the rest of the test.
pub(crate) async fn serve_app(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("server address");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    addr
}

async fn start_server() -> SocketAddr {
    serve_app(course_app()).await
}

pub(crate) async fn connect(driver: &Driver) -> Client {
    connect_with(driver, &[]).await
}

/// A session whose browser gets `extra` command-line switches on top of the usual headless set.
async fn connect_with(driver: &Driver, extra: &[&str]) -> Client {
    let profile = std::env::temp_dir().join(format!(
        "dlf-chromium-{}-{}",
        std::process::id(),
        driver.port
    ));
    let mut args: Vec<String> = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,1600",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut caps = Capabilities::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        json!({ "binary": "/usr/bin/chromium", "args": args }),
    );
    caps.insert("goog:loggingPrefs".to_owned(), json!({ "browser": "ALL" }));
    let url = format!("http://127.0.0.1:{}", driver.port);
    // Generous: on a loaded two-core CI machine three browsers may start at once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(client) => return client,
            Err(err) if Instant::now() < deadline => {
                let _ = err;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => panic!("could not start a Chromium session through chromedriver: {err}"),
        }
    }
}

/// chromedriver's endpoint for the browser console log (not part of W3C WebDriver, hence a custom command).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// Console messages of level SEVERE (console.error, uncaught exceptions, failed loads).
async fn console_errors(client: &Client) -> Vec<String> {
    let log = client
        .issue_cmd(BrowserLog)
        .await
        .expect("read the browser log");
    log.as_array()
        .map(|entries| {
            entries
                .iter()
                .filter(|e| e["level"] == "SEVERE")
                .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) async fn js(client: &Client, script: &str) -> Value {
    client
        .execute(script, vec![])
        .await
        .expect("run a script in the page")
}

/// Opens `url` and waits until its widgets are wired to the WebAssembly module; a page that fell back to the
/// server route fails, since that would hide a broken wasm build.
pub(crate) async fn open_with_wasm(client: &Client, url: &str) {
    client.goto(url).await.expect("open the page");
    let renderer = wait_for(
        client,
        "document.documentElement.dataset.widgetRenderer",
        "the widget module to load",
    )
    .await;
    assert_eq!(
        renderer,
        json!("wasm"),
        "{url}: widgets must render through WebAssembly in the page"
    );
}

/// Waits until `script` (an expression) is truthy, or fails with `what`.
pub(crate) async fn wait_for(client: &Client, script: &str, what: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let value = js(client, &format!("return ({script});")).await;
        let truthy =
            !(value.is_null() || value == json!(false) || value == json!(0) || value == json!(""));
        if truthy {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the widget `instance` has rendered more than `count` times since the page loaded.
async fn wait_for_redraw(client: &Client, instance: &str, count: u64, what: &str) {
    wait_for(
        client,
        &format!(
            "Number(document.getElementById('w-{instance}').dataset.renderCount || 0) > {count}"
        ),
        what,
    )
    .await;
}

/// Asserts the page logged no errors, then ends the session.
pub(crate) async fn finish_without_console_errors(client: Client) {
    let errors = console_errors(&client).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    client.close().await.expect("close the browser");
}

async fn figure_state(client: &Client, instance: &str) -> (String, u64) {
    let v = js(
        client,
        &format!(
            "const f = document.getElementById('w-{instance}');
             return [f.querySelector('.widget-figure').innerHTML, Number(f.dataset.renderCount || 0)];"
        ),
    )
    .await;
    (
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_u64().unwrap_or(0),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lesson_01_widgets_respond_to_mouse_and_keyboard() {
    let addr = start_server().await;
    let driver = start_driver();
    let client = connect(&driver).await;

    open_with_wasm(&client, &format!("http://{addr}/lessons/01-backprop/")).await;
    wait_for(
        &client,
        "document.querySelector('#w-trainer[data-ready]')",
        "the trainer widget to be wired",
    )
    .await;

    // Maths is rendered as MathML on the server: the page has <math> elements and loads no maths script.
    let maths = js(&client, "return document.querySelectorAll('math').length;").await;
    assert!(
        maths.as_u64().unwrap_or(0) > 20,
        "expected the lesson's formulas as MathML, found {maths}"
    );

    // Drag the trainer's width slider with the mouse from its left end to three quarters of its length.
    let (before_svg, before_count) = figure_state(&client, "trainer").await;
    let slider = client
        .find(Locator::Css("#w-trainer input[type=range][name=width]"))
        .await
        .expect("the trainer has a width slider");
    js(
        &client,
        "document.querySelector('#w-trainer input[name=width]').scrollIntoView({block: 'center'});",
    )
    .await;
    let (_, _, w, _) = slider.rectangle().await.expect("slider geometry");
    let before_value = slider
        .prop("value")
        .await
        .expect("slider value")
        .unwrap_or_default();
    let drag = MouseActions::new("mouse".to_owned())
        .then(PointerAction::MoveToElement {
            element: slider.clone(),
            duration: None,
            x: -w / 2.0 + 4.0,
            y: 0.0,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: w * 0.35,
            y: 0.0,
        })
        .then(PointerAction::MoveBy {
            duration: Some(Duration::from_millis(150)),
            x: w * 0.35,
            y: 0.0,
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    client.perform_actions(drag).await.expect("drag the slider");
    let after_value = slider
        .prop("value")
        .await
        .expect("slider value")
        .unwrap_or_default();
    assert_ne!(
        before_value, after_value,
        "dragging the slider changes its value"
    );
    wait_for_redraw(&client, "trainer", before_count, "a redraw after the drag").await;
    let (dragged_svg, dragged_count) = figure_state(&client, "trainer").await;
    assert_ne!(
        before_svg, dragged_svg,
        "the figure changes when the slider is dragged"
    );
    let output = js(
        &client,
        "return document.querySelector('#w-trainer output[for=w-trainer-width]').value;",
    )
    .await;
    assert_eq!(
        output,
        json!(after_value),
        "the slider's output shows its value"
    );

    // Now the keyboard: focus the slider and press the right arrow twice.
    slider
        .send_keys(&format!(
            "{}{}",
            char::from(Key::Right),
            char::from(Key::Right)
        ))
        .await
        .expect("press keys");
    let keyed_value = slider
        .prop("value")
        .await
        .expect("slider value")
        .unwrap_or_default();
    assert_ne!(after_value, keyed_value, "the arrow keys move the slider");
    wait_for_redraw(
        &client,
        "trainer",
        dragged_count,
        "a redraw after the key presses",
    )
    .await;
    let (keyed_svg, _) = figure_state(&client, "trainer").await;
    assert_ne!(
        dragged_svg, keyed_svg,
        "the figure changes when the slider moves by keyboard"
    );

    // The widget's state is in the URL, so the configuration can be shared.
    let url = client.current_url().await.expect("current url");
    assert!(
        url.query()
            .unwrap_or_default()
            .contains(&format!("trainer.width={keyed_value}")),
        "the URL carries the widget state: {url}"
    );

    // A select changes the walk widget, too.
    let (walk_svg, walk_count) = figure_state(&client, "walk").await;
    js(
        &client,
        "const s = document.querySelector('#w-walk select[name=activation]');
         s.value = s.value === 'tanh' ? 'sigmoid' : 'tanh';
         s.dispatchEvent(new Event('input', {bubbles: true}));",
    )
    .await;
    wait_for_redraw(&client, "walk", walk_count, "the walk widget to redraw").await;
    let (walk_svg_after, _) = figure_state(&client, "walk").await;
    assert_ne!(
        walk_svg, walk_svg_after,
        "the walk widget redraws for a new activation"
    );

    // The derive box: the steps start hidden, the timer runs, and steps are revealed one at a time.
    let hidden = js(&client, "return [...document.querySelectorAll('.derive')][0].querySelectorAll('.derive-step[hidden]').length;").await;
    assert!(
        hidden.as_u64().unwrap_or(0) >= 2,
        "derive steps start hidden"
    );
    js(&client, "document.querySelector('.derive .derive-start').click(); document.querySelector('.derive .derive-next').click();").await;
    let revealed = js(&client, "return document.querySelector('.derive').querySelectorAll('.derive-step:not([hidden])').length;").await;
    assert_eq!(revealed, json!(1), "one click reveals exactly one step");
    wait_for(
        &client,
        "document.querySelector('.derive.derive-running')",
        "the derive timer to run",
    )
    .await;

    // Render time in the browser, as measured by the page itself (reported, not asserted: see the benches).
    let ms = js(&client, "return [...document.querySelectorAll('figure.widget')].map(f => f.id + ' ' + f.dataset.renderMs + ' ms');").await;
    eprintln!("in-browser render times (last render): {ms}");

    finish_without_console_errors(client).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_state_in_the_url_is_restored_and_the_track_page_links_lesson_01() {
    let addr = start_server().await;
    let driver = start_driver();
    let client = connect(&driver).await;

    client
        .goto(&format!("http://{addr}/"))
        .await
        .expect("open the track page");
    let link = client
        .find(Locator::Css("a[href='./lessons/01-backprop/']"))
        .await
        .expect("the track page links lesson 01");
    link.click().await.expect("follow the link");
    wait_for(
        &client,
        "location.pathname === '/lessons/01-backprop/'",
        "lesson 01 to open",
    )
    .await;

    client
        .goto(&format!(
            "http://{addr}/lessons/01-backprop/?trainer.width=5&trainer.activation=tanh"
        ))
        .await
        .expect("open lesson 01 with state");
    wait_for(
        &client,
        "Number(document.getElementById('w-trainer').dataset.renderCount || 0) >= 1",
        "a render from the URL state",
    )
    .await;
    let values = js(
        &client,
        "return [document.querySelector('#w-trainer input[name=width]').value, document.querySelector('#w-trainer select[name=activation]').value];",
    )
    .await;
    assert_eq!(
        values,
        json!(["5", "tanh"]),
        "controls take their values from the URL"
    );
    let description = js(
        &client,
        "return document.querySelector('#w-trainer .widget-description').textContent;",
    )
    .await;
    assert!(
        description
            .as_str()
            .unwrap_or_default()
            .to_lowercase()
            .contains("tanh"),
        "the description follows the state: {description}"
    );
    finish_without_console_errors(client).await;
}

/// A plain static file host for the export, mounted under a sub-path: `/course/<path>` is the file
/// `<dir>/<path>`, a folder answers with its `index.html`, and the type comes from the extension. Nothing of
/// dlf runs here, which is the point: the export must work from any static host.
async fn serve_directory_under_course(dir: std::path::PathBuf) -> SocketAddr {
    use axum::http::{header, StatusCode, Uri};
    use axum::response::IntoResponse;
    let app = axum::Router::new().fallback(move |uri: Uri| {
        let dir = dir.clone();
        async move {
            let Some(relative) = uri.path().strip_prefix("/course/") else {
                return StatusCode::NOT_FOUND.into_response();
            };
            let mut path = dir.join(relative);
            if relative.is_empty() || relative.ends_with('/') {
                path = path.join("index.html");
            }
            if relative.split('/').any(|part| part == "..") {
                return StatusCode::BAD_REQUEST.into_response();
            }
            let mime = match path.extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html; charset=utf-8",
                Some("css") => "text/css",
                Some("js") => "text/javascript",
                Some("wasm") => "application/wasm",
                Some("otf") => "font/otf",
                Some("svg") => "image/svg+xml",
                _ => "application/octet-stream",
            };
            match std::fs::read(&path) {
                Ok(bytes) => ([(header::CONTENT_TYPE, mime)], bytes).into_response(),
                Err(_) => StatusCode::NOT_FOUND.into_response(),
            }
        }
    });
    serve_app(app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_static_export_works_from_a_plain_file_host_under_a_sub_path() {
    let dir = std::env::temp_dir().join(format!("dlf-export-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let site = dlf_content::Site::load_embedded().expect("the embedded course validates");
    let written = dlf_server::export::write(&site, &dir).expect("export the course");
    assert!(written >= 6, "pages and assets are written ({written})");
    let addr = serve_directory_under_course(dir.clone()).await;
    let driver = start_driver();
    let client = connect(&driver).await;

    client
        .goto(&format!("http://{addr}/course/"))
        .await
        .expect("open the exported track page");
    client
        .find(Locator::Css("a[href='./lessons/01-backprop/']"))
        .await
        .expect("the exported track page links lesson 01")
        .click()
        .await
        .expect("follow the link");
    wait_for(
        &client,
        "location.pathname === '/course/lessons/01-backprop/'",
        "the exported lesson to open",
    )
    .await;

    // The theme's stylesheet and the maths font come from the export itself.
    let styled = wait_for(
        &client,
        "document.fonts.status === 'loaded' && getComputedStyle(document.querySelector('header.site')).borderBottomStyle === 'solid'",
        "the exported stylesheet to apply",
    )
    .await;
    assert_eq!(styled, json!(true));
    let font = js(
        &client,
        "return document.fonts.check('16px \"Latin Modern Math\"');",
    )
    .await;
    assert_eq!(
        font,
        json!(true),
        "the maths font is served from the export"
    );

    // Widgets are live through the exported wasm: move a slider and see the figure change.
    let renderer = wait_for(
        &client,
        "document.documentElement.dataset.widgetRenderer",
        "the widget module to load",
    )
    .await;
    assert_eq!(renderer, json!("wasm"));
    wait_for(
        &client,
        "document.querySelector('#w-walk[data-ready]')",
        "the walk widget to be wired",
    )
    .await;
    let (before, count) = figure_state(&client, "walk").await;
    let slider = client
        .find(Locator::Css("#w-walk input[type=range][name=hidden]"))
        .await
        .expect("the walk widget has a hidden-width slider");
    js(
        &client,
        "document.querySelector('#w-walk input[name=hidden]').scrollIntoView({block: 'center'});",
    )
    .await;
    slider
        .send_keys(&char::from(Key::Left).to_string())
        .await
        .expect("press a key");
    wait_for_redraw(&client, "walk", count, "a redraw in the exported page").await;
    let (after, _) = figure_state(&client, "walk").await;
    assert_ne!(before, after, "the exported widget redraws");

    finish_without_console_errors(client).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_widget_module_widgets_redraw_through_the_server_route() {
    // The same server, except that the widget module is empty, as it is when the wasm32 target was not
    // installed at build time: the page must notice and ask /api/widgets/{id} instead.
    let app = axum::Router::new()
        .route(
            &format!(
                "/assets/{}",
                dlf_server::bundle::asset_path("widgets/backprop.wasm")
                    .expect("lesson 01's module is an asset")
            ),
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/wasm")],
                    Vec::<u8>::new(),
                )
            }),
        )
        .merge(course_app());
    let addr = serve_app(app).await;
    let driver = start_driver();
    let client = connect(&driver).await;
    client
        .goto(&format!("http://{addr}/lessons/01-backprop/"))
        .await
        .expect("open lesson 01");
    let renderer = wait_for(
        &client,
        "document.documentElement.dataset.widgetRenderer",
        "the page to choose a renderer",
    )
    .await;
    assert_eq!(
        renderer,
        json!("server"),
        "without WebAssembly the page falls back to the server route"
    );
    wait_for(
        &client,
        "document.querySelector('#w-walk[data-ready]')",
        "the walk widget to be wired",
    )
    .await;
    let (before, count) = figure_state(&client, "walk").await;
    js(
        &client,
        "const s = document.querySelector('#w-walk select[name=activation]');
         s.value = s.value === 'tanh' ? 'sigmoid' : 'tanh';
         s.dispatchEvent(new Event('input', {bubbles: true}));",
    )
    .await;
    wait_for_redraw(&client, "walk", count, "a redraw through the server").await;
    let (after, _) = figure_state(&client, "walk").await;
    assert_ne!(before, after, "the server route redraws the figure");
    let via = js(
        &client,
        "return document.getElementById('w-walk').dataset.renderer;",
    )
    .await;
    assert_eq!(via, json!("server"));
    finish_without_console_errors(client).await;
}
