//! Acting as a visitor: real (trusted) mouse and key events, aimed with the DOM domain.
//!
//! Input goes to the tab's session with coordinates in the tab's viewport; an
//! out-of-process iframe's elements are offset by where its `<iframe>` sits. Nothing runs
//! in the page's JavaScript world.

use std::time::Duration;

use serde_json::{json, Value};

use super::record::TargetKind;
use super::{Tab, Watcher};

const TEXT_FIELDS: &str = "input:not([type]), input[type=text], input[type=search], \
    input[type=email], input[type=url], input[type=tel], input[type=password], \
    input[type=number], textarea, [contenteditable=''], [contenteditable=true]";
const BUTTONS: &str =
    "button, input[type=submit], input[type=button], input[type=image], [role=button], summary";
/// At most this many fields and as many buttons per frame.
const MAX_ELEMENTS: usize = 16;
const TYPED: &str = "hello from lumamesh check";
const PAUSE: Duration = Duration::from_millis(60);

/// A frame to act in: its session, where its viewport sits in the tab, and its document.
struct Frame {
    session: String,
    offset: (f64, f64),
    root: i64,
}

pub(super) async fn exercise(watcher: &Watcher, tab: &Tab, frame_path: &str) -> Vec<String> {
    let mut done = Vec::new();
    let frames = match frames(watcher, tab, frame_path).await {
        Some(frames) => frames,
        None => {
            done.push(format!("found no frame at {frame_path} to act in"));
            return done;
        }
    };
    for frame in frames {
        for node in query(watcher, &frame, TEXT_FIELDS).await {
            let Some(name) = name_of(watcher, &frame, node).await else {
                continue;
            };
            if click(watcher, tab, &frame, node).await.is_none() {
                continue;
            }
            let _ = watcher
                .send(&tab.session, "Input.insertText", json!({"text": TYPED}))
                .await;
            press_enter(watcher, tab).await;
            done.push(format!("typed into {name} and pressed Enter"));
            tokio::time::sleep(PAUSE).await;
        }
        for node in query(watcher, &frame, BUTTONS).await {
            let Some(name) = name_of(watcher, &frame, node).await else {
                continue;
            };
            if click(watcher, tab, &frame, node).await.is_some() {
                done.push(format!("clicked {name}"));
            }
            tokio::time::sleep(PAUSE).await;
        }
    }
    done
}

/// The frames whose URL contains `frame_path`: the tab itself, its out-of-process
/// iframes, or a same-process iframe's document.
async fn frames(watcher: &Watcher, tab: &Tab, frame_path: &str) -> Option<Vec<Frame>> {
    let sessions = watcher.sessions();
    let top = sessions.iter().find(|s| s.id == tab.session)?;
    if top.url.contains(frame_path) {
        let root = document(watcher, &tab.session, false).await?;
        return Some(vec![Frame {
            session: tab.session.clone(),
            offset: (0.0, 0.0),
            root: root["nodeId"].as_i64()?,
        }]);
    }
    let mut out = Vec::new();
    let children = sessions.iter().filter(|s| {
        s.parent.as_deref() == Some(tab.session.as_str())
            && s.kind == TargetKind::Iframe
            && s.url.contains(frame_path)
    });
    let mut offset = None;
    for child in children {
        let Some(root) = document(watcher, &child.id, false)
            .await
            .and_then(|root| root["nodeId"].as_i64())
        else {
            continue;
        };
        if offset.is_none() {
            offset = Some(
                iframe_offset(watcher, &tab.session)
                    .await
                    .unwrap_or((0.0, 0.0)),
            );
        }
        out.push(Frame {
            session: child.id.clone(),
            offset: offset.unwrap_or((0.0, 0.0)),
            root,
        });
    }
    if out.is_empty() {
        // The iframe runs in the tab's process: its document hangs under the tab's.
        let root = document(watcher, &tab.session, true).await?;
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            if node["nodeName"] == "IFRAME" {
                let content = &node["contentDocument"];
                if content["documentURL"]
                    .as_str()
                    .is_some_and(|u| u.contains(frame_path))
                {
                    out.push(Frame {
                        session: tab.session.clone(),
                        offset: (0.0, 0.0),
                        root: content["nodeId"].as_i64()?,
                    });
                }
            }
            for key in ["children", "shadowRoots"] {
                if let Some(children) = node[key].as_array() {
                    stack.extend(children.iter().cloned());
                }
            }
            if node["contentDocument"].is_object() {
                stack.push(node["contentDocument"].clone());
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

async fn document(watcher: &Watcher, session: &str, pierce: bool) -> Option<Value> {
    let depth = if pierce { -1 } else { 1 };
    let result = watcher
        .send(
            session,
            "DOM.getDocument",
            json!({"depth": depth, "pierce": pierce}),
        )
        .await
        .ok()?;
    Some(result["root"].clone())
}

/// Where the tab's first `<iframe>` shows its content, in the tab's viewport.
async fn iframe_offset(watcher: &Watcher, session: &str) -> Option<(f64, f64)> {
    let root = document(watcher, session, false).await?;
    let found = watcher
        .send(
            session,
            "DOM.querySelector",
            json!({"nodeId": root["nodeId"], "selector": "iframe"}),
        )
        .await
        .ok()?;
    let quads = watcher
        .send(
            session,
            "DOM.getContentQuads",
            json!({"nodeId": found["nodeId"]}),
        )
        .await
        .ok()?;
    let quad = quads["quads"][0].as_array()?;
    Some((quad.first()?.as_f64()?, quad.get(1)?.as_f64()?))
}

async fn query(watcher: &Watcher, frame: &Frame, selector: &str) -> Vec<i64> {
    let Ok(found) = watcher
        .send(
            &frame.session,
            "DOM.querySelectorAll",
            json!({"nodeId": frame.root, "selector": selector}),
        )
        .await
    else {
        return Vec::new();
    };
    found["nodeIds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .take(MAX_ELEMENTS)
        .collect()
}

/// `tag#id` (or `tag "text"`), for messages.
async fn name_of(watcher: &Watcher, frame: &Frame, node: i64) -> Option<String> {
    let described = watcher
        .send(&frame.session, "DOM.describeNode", json!({"nodeId": node}))
        .await
        .ok()?;
    let node = &described["node"];
    let tag = node["localName"].as_str().unwrap_or("element").to_owned();
    let attributes: Vec<&str> = node["attributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let id = attributes
        .chunks(2)
        .find(|pair| pair[0] == "id")
        .and_then(|pair| pair.get(1));
    Some(match id {
        Some(id) => format!("{tag}#{id}"),
        None => tag,
    })
}

/// Scrolls `node` into view and clicks its centre; `None` if it has no box.
async fn click(watcher: &Watcher, tab: &Tab, frame: &Frame, node: i64) -> Option<()> {
    let _ = watcher
        .send(
            &frame.session,
            "DOM.scrollIntoViewIfNeeded",
            json!({"nodeId": node}),
        )
        .await;
    let quads = watcher
        .send(
            &frame.session,
            "DOM.getContentQuads",
            json!({"nodeId": node}),
        )
        .await
        .ok()?;
    let quad: Vec<f64> = quads["quads"][0]
        .as_array()?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    if quad.len() != 8 {
        return None;
    }
    let x = (quad[0] + quad[2] + quad[4] + quad[6]) / 4.0 + frame.offset.0;
    let y = (quad[1] + quad[3] + quad[5] + quad[7]) / 4.0 + frame.offset.1;
    for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
        let _ = watcher
            .send(
                &tab.session,
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
            )
            .await;
    }
    Some(())
}

async fn press_enter(watcher: &Watcher, tab: &Tab) {
    let key = json!({"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13});
    let mut down = key.clone();
    down["type"] = json!("keyDown");
    down["text"] = json!("\r");
    let mut up = key;
    up["type"] = json!("keyUp");
    for event in [down, up] {
        let _ = watcher
            .send(&tab.session, "Input.dispatchKeyEvent", event)
            .await;
    }
}

/// `(rel, href)` of every `<link href>` in the session's document.
pub(super) async fn links(watcher: &Watcher, session: &str) -> Vec<(String, String)> {
    let Some(root) = document(watcher, session, false).await else {
        return Vec::new();
    };
    let Ok(found) = watcher
        .send(
            session,
            "DOM.querySelectorAll",
            json!({"nodeId": root["nodeId"], "selector": "link[href]"}),
        )
        .await
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for node in found["nodeIds"].as_array().into_iter().flatten().take(256) {
        let Ok(attributes) = watcher
            .send(session, "DOM.getAttributes", json!({"nodeId": node}))
            .await
        else {
            continue;
        };
        let pairs: Vec<&str> = attributes["attributes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let get = |name: &str| {
            pairs
                .chunks(2)
                .find(|p| p[0].eq_ignore_ascii_case(name))
                .and_then(|p| p.get(1))
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        out.push((get("rel"), get("href")));
    }
    out
}
