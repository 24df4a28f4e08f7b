//! `policy lsp` end to end: a scripted client speaks the Language Server Protocol to the built binary
//! over its standard input and output (JSON-RPC, `Content-Length` framing). Every read is bounded by a
//! timeout, so a server that hangs fails the test instead of hanging it.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    reason = "a test client: a failure is the test failing"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// How long any one answer may take (a debug build analysing a policy on a loaded machine).
const TIMEOUT: Duration = Duration::from_secs(60);

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    notifications: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_policy"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the policy binary starts");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (send, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = None;
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(value) = serde_json::from_slice::<Value>(&body) else {
                    return;
                };
                if send.send(value).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            next_id: 1,
            notifications: Vec::new(),
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The next message, or a failure after `TIMEOUT`.
    fn receive(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.messages
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no message from the server in time: {e}"))
    }

    /// Sends a request and returns its whole response (`result` or `error`).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline);
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The result of a request that must succeed.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// The next diagnostics published for `uri` at `version`.
    fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let found = self.notifications.iter().position(|n| {
                n["method"] == "textDocument/publishDiagnostics"
                    && n["params"]["uri"] == uri
                    && n["params"]["version"] == version
            });
            if let Some(i) = found {
                let n = self.notifications.remove(i);
                return n["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            let message = self.receive(deadline);
            self.notifications.push(message);
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary copy of `policies/alibaba-ssl-refund-legacy.policy` with the library it imports and its
/// calendar, as a folder of its own.
struct Workspace {
    dir: PathBuf,
}

impl Workspace {
    fn new(name: &str) -> Workspace {
        let dir = std::env::temp_dir().join(format!("policy-lsp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
        for file in [
            "alibaba-ssl-refund-legacy.policy",
            "common/contract.policy",
            "calendars/cn.calendar",
        ] {
            let to = dir.join(file);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(root.join(file), &to).unwrap();
        }
        Workspace { dir }
    }

    fn policy(&self) -> PathBuf {
        self.dir.join("alibaba-ssl-refund-legacy.policy")
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The protocol position (line, UTF-16 column) of byte `offset` of `text`.
fn position(text: &str, offset: usize) -> Value {
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[start..offset].encode_utf16().count();
    json!({"line": line, "character": column})
}

/// The byte offset of a protocol position in `text`.
fn offset(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let column = position["character"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let mut units = 0;
    for (i, c) in text[start..].char_indices() {
        if units >= column {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The position `after` bytes into the `nth` occurrence of `needle`.
fn at(text: &str, needle: &str, nth: usize, after: usize) -> Value {
    let found = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} not in the text"))
        .0;
    position(text, found + after)
}

fn line_of(text: &str, needle: &str) -> u64 {
    let found = text.find(needle).unwrap_or_else(|| panic!("no `{needle}`"));
    text[..found].matches('\n').count() as u64
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .expect("a list of completions")
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_scripted_editor_session() {
    let workspace = Workspace::new("session");
    let path = workspace.policy();
    let uri = uri_of(&path);
    let good = std::fs::read_to_string(&path).unwrap();
    // A misspelled field in a rule's condition.
    let typo = "now within 5 calendar days after paid_at";
    assert!(good.contains(typo));
    let broken = good.replacen(typo, "now within 5 calendar days after paid_ta", 1);

    let mut client = Client::start();
    let init = client.call(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    let capabilities = &init["capabilities"];
    assert_eq!(capabilities["positionEncoding"], "utf-16");
    assert_eq!(capabilities["hoverProvider"], true);
    assert_eq!(capabilities["definitionProvider"], true);
    assert_eq!(capabilities["referencesProvider"], true);
    assert!(capabilities["completionProvider"].is_object());
    assert_eq!(capabilities["documentFormattingProvider"], true);
    client.notify("initialized", json!({}));

    // Open the broken file: its diagnostic, with its code and range.
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "policy", "version": 1, "text": broken}}),
    );
    let diagnostics = client.diagnostics(&uri, 1);
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "policy::check::unknown_name")
        .unwrap_or_else(|| panic!("no unknown name among {diagnostics:?}"));
    let typo_at = broken.find("paid_ta").unwrap();
    assert_eq!(unknown["range"]["start"], position(&broken, typo_at));
    assert_eq!(unknown["range"]["end"], position(&broken, typo_at + 7));
    assert_eq!(unknown["severity"], 1);
    assert_eq!(unknown["source"], "policy");
    assert!(unknown["message"].as_str().unwrap().contains("paid_at"));

    // The quick fix, applied.
    let actions = client.call(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": unknown["range"],
               "context": {"diagnostics": [unknown]}}),
    );
    let action = &actions[0];
    assert_eq!(action["kind"], "quickfix");
    assert_eq!(action["title"], "Replace with `paid_at`");
    let edits = action["edit"]["changes"][&uri].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    let mut fixed = broken.clone();
    let start = offset(&fixed, &edits[0]["range"]["start"]);
    let end = offset(&fixed, &edits[0]["range"]["end"]);
    fixed.replace_range(start..end, edits[0]["newText"].as_str().unwrap());
    assert_eq!(fixed, good);

    // Sent back: no error is left.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": fixed}]}),
    );
    let diagnostics = client.diagnostics(&uri, 2);
    assert!(
        diagnostics.iter().all(|d| d["severity"] != 1),
        "errors left: {diagnostics:?}"
    );
    let text = fixed;

    // Hover a field: its type.
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": at(&text, "after paid_at", 0, 8)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.starts_with("field `paid_at`: `timestamp`"), "{shown}");
    let paid_at = text.find("after paid_at").unwrap() + 6;
    assert_eq!(hover["range"]["start"], position(&text, paid_at));

    // Hover a definition: its type and its value in the examples.
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": at(&text, "let cash", 0, 5)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.starts_with("definition `cash`: `money`"), "{shown}");
    assert!(shown.contains("In the examples:"), "{shown}");
    assert!(
        shown.contains("`80`") || shown.contains("`80.00`"),
        "{shown}"
    );

    // Hover a rule: its outcome and citations.
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri},
               "position": at(&text, "rule unissued_within_5_days", 0, 6)}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.starts_with("rule `unissued_within_5_days`: **allowed** (action `refund`)"),
        "{shown}"
    );
    assert!(shown.contains("\n\n  > "), "a citation: {shown}");

    // Go to the definition of a definition, from a use.
    let definition = client.call(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri},
               "position": at(&text, "when not_yet_validated", 0, 7)}),
    );
    assert_eq!(definition["uri"], uri);
    assert_eq!(
        definition["range"]["start"]["line"],
        line_of(&text, "let not_yet_validated")
    );
    // And of a step the library declares: into the library.
    let definition = client.call(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": at(&text, "requires [revoke]", 0, 11)}),
    );
    let library = workspace.dir.join("common/contract.policy");
    assert_eq!(definition["uri"], uri_of(&library));
    let library_text = std::fs::read_to_string(&library).unwrap();
    assert_eq!(
        definition["range"]["start"]["line"],
        line_of(&library_text, "  revoke,")
    );

    // Every use of a definition.
    let references = client.call(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": at(&text, "let cash", 0, 5),
               "context": {"includeDeclaration": true}}),
    );
    let uses = text.matches("cash").count();
    assert_eq!(references.as_array().unwrap().len(), uses, "{references}");

    // A step the library declares: its use here and its declaration there, from the disk.
    let references = client.call(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": at(&text, "requires [revoke]", 0, 11),
               "context": {"includeDeclaration": true}}),
    );
    let found: Vec<(String, u64)> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["uri"].as_str().unwrap().to_string(),
                l["range"]["start"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let revoke_line = line_of(&library_text, "  revoke,");
    assert_eq!(
        found,
        [
            (uri.clone(), line_of(&text, "requires [revoke]")),
            (uri_of(&library), revoke_line),
        ]
    );
    // From the library, opened too: the uses in the files that import it.
    let library_uri = uri_of(&library);
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": library_uri, "languageId": "policy", "version": 1, "text": library_text}}),
    );
    let references = client.call(
        "textDocument/references",
        json!({"textDocument": {"uri": library_uri},
               "position": {"line": revoke_line, "character": 6},
               "context": {"includeDeclaration": false}}),
    );
    let found: Vec<&str> = references
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["uri"].as_str().unwrap())
        .collect();
    assert_eq!(found, [uri.as_str()]);
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": library_uri}}),
    );

    // Completion in a half-typed line that does not parse: the names of the last text that did.
    let typing = text.replacen(
        "let cash = price",
        "let half = \nlet s = status in {verifying, \nlet cash = price",
        1,
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": typing}]}),
    );
    let items = client.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": at(&typing, "let half = ", 0, 11)}),
    );
    let names = labels(&items);
    for expected in ["paid_at", "price", "cash", "date", "now"] {
        assert!(
            names.iter().any(|n| n == expected),
            "no `{expected}` in {names:?}"
        );
    }
    let price = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "price")
        .unwrap();
    assert_eq!(price["kind"], 5, "a field"); // CompletionItemKind::FIELD
    assert_eq!(price["detail"], "money");
    let items = client.call(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri},
               "position": at(&typing, "{verifying, ", 0, 12)}),
    );
    let names = labels(&items);
    assert!(names.contains(&"validated".to_string()), "{names:?}");
    assert!(!names.contains(&"price".to_string()), "{names:?}");
    // The syntax error of the half-typed text is published.
    let diagnostics = client.diagnostics(&uri, 3);
    assert!(diagnostics.iter().any(|d| d["severity"] == 1));

    // Every request is answered: an unknown method, a document not open, parameters that do not read.
    let response = client.request("textDocument/rename", json!({}));
    assert_eq!(response["error"]["code"], -32601);
    let response = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.policy"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(response["error"]["code"], -32602);
    let response = client.request("textDocument/hover", json!({"nonsense": true}));
    assert_eq!(response["error"]["code"], -32602);
    let response = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    // The half-typed text has syntax errors: it is not formatted.
    assert!(response["error"]["message"]
        .as_str()
        .unwrap()
        .contains("syntax errors"));
    // Formatting a text laid out badly gives back the canonical layout, as one edit of the whole
    // text; a text already in it gives no edit.
    let untidy = text
        .replace("\n  rule ", "\n      rule ")
        .replace("\n\n", "\n\n\n");
    assert_ne!(untidy, text);
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [{"text": untidy}]}),
    );
    let formatting =
        json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}});
    let edits = client.call("textDocument/formatting", formatting.clone());
    assert_eq!(edits.as_array().unwrap().len(), 1, "{edits}");
    assert_eq!(edits[0]["newText"], text.as_str());
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 5}, "contentChanges": [{"text": text}]}),
    );
    let edits = client.call("textDocument/formatting", formatting);
    assert_eq!(edits, json!([]));
    // Positions past the end of the text.
    let hover = client.call(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 9999, "character": 9999}}),
    );
    assert!(hover.is_null());

    // Closing clears the diagnostics; shutdown, then exit.
    client.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri}}),
    );
    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none(), "{shutdown}");
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn utf8_positions_when_the_client_offers_them() {
    let workspace = Workspace::new("utf8");
    let path = workspace.dir.join("unicode.policy");
    // A string with characters of two and four UTF-8 bytes (one and two UTF-16 units) before a typo.
    let text = "policy u\n  document \"d.txt\"\n  zone \"UTC\"\n\nfield price: money\n\
                let x = 1\nlet y = \"é😀\" != \"\" and prcie > 0\n";
    std::fs::write(&path, text).unwrap();
    let uri = uri_of(&path);
    let mut client = Client::start();
    let init = client.call(
        "initialize",
        json!({"processId": null, "capabilities": {"general": {"positionEncodings": ["utf-8", "utf-16"]}}}),
    );
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "policy", "version": 7, "text": text}}),
    );
    let diagnostics = client.diagnostics(&uri, 7);
    let unknown = diagnostics
        .iter()
        .find(|d| d["code"] == "policy::check::unknown_name")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    let line = text.lines().nth(6).unwrap();
    assert_eq!(
        unknown["range"]["start"],
        json!({"line": 6, "character": line.find("prcie").unwrap()})
    );
    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none());
    client.notify("exit", Value::Null);
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut client = Client::start();
    client.call("initialize", json!({"processId": null, "capabilities": {}}));
    client.notify("initialized", json!({}));
    client.notify("exit", Value::Null);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(1));
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}
