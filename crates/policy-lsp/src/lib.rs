//! The language server of `.policy` files, over the `policy` library: `policy lsp` runs it on standard
//! input and output (the Language Server Protocol's JSON-RPC with `Content-Length` framing).
//!
//! It answers: diagnostics as you type (every finding `policy check` reports, `# allow` comments
//! applied), hover (a field's or definition's type and unit, a rule's outcome and citations, a
//! definition's value in each example), go to definition and find references (fields, definitions,
//! enums and their values, steps, refund destinations, review kinds, rules, imports), completion
//! (names, enum values, steps, units, keywords), quick fixes from the diagnostics' suggestions, and an
//! outline. A text that does not parse keeps the names of the last one that did.
//!
//! It is synchronous (`lsp-server`): one loop reads a message, answers it, and publishes the
//! diagnostics of changed documents once no message is waiting. Every request is answered, with an
//! error at worst: a handler that panics is answered with an internal error and the server goes on.

#![expect(
    clippy::mutable_key_type,
    reason = "`lsp_types::Uri` (the protocol's map key, in `WorkspaceEdit` too) caches its parse in a \
              cell; its hash and equality are those of its text, which never changes"
)]

mod document;
mod features;
mod format;
mod lines;
mod uri;

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self, Notification as _};
use lsp_types::request::{self, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionProviderCapability, CompletionOptions, CompletionResponse,
    DocumentSymbolResponse, GotoDefinitionResponse, HoverProviderCapability, InitializeParams,
    InitializeResult, OneOf, PositionEncodingKind, PublishDiagnosticsParams, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, Uri,
};

use document::Document;
use lines::Encoding;

pub use format::format_text;

/// Runs the server on standard input and output until the client says `exit`: `Ok(true)` after
/// `shutdown` then `exit`, `Ok(false)` after an `exit` without `shutdown` or a client that went away
/// (the protocol's exit status 1). An error is a broken connection or a protocol violation by the
/// client before initialization ended.
pub fn run_stdio() -> Result<bool, String> {
    let (connection, threads) = Connection::stdio();
    let served = serve(&connection);
    drop(connection);
    threads.join().map_err(|e| e.to_string())?;
    served
}

/// Serves one client on `connection`: initialization, then requests and notifications until `exit`
/// (see [`run_stdio`] for the result).
pub fn serve(connection: &Connection) -> Result<bool, String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let encoding = if params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref())
        .is_some_and(|offered| offered.contains(&PositionEncodingKind::UTF8))
    {
        Encoding::Utf8
    } else {
        Encoding::Utf16
    };
    let result = InitializeResult {
        capabilities: capabilities(encoding),
        server_info: Some(ServerInfo {
            name: "policy".into(),
            version: Some(env!("CARGO_PKG_VERSION").into()),
        }),
    };
    let result = serde_json::to_value(result).map_err(|e| e.to_string())?;
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let mut server = Server {
        documents: HashMap::new(),
        encoding,
        outbox: Vec::new(),
    };
    loop {
        if connection.receiver.is_empty() {
            server.publish_changed();
            for message in server.outbox.drain(..) {
                connection.sender.send(message).map_err(|e| e.to_string())?;
            }
        }
        let Ok(message) = connection.receiver.recv() else {
            return Ok(false);
        };
        match message {
            Message::Request(request) => {
                if connection
                    .handle_shutdown(&request)
                    .map_err(|e| e.to_string())?
                {
                    return Ok(true);
                }
                let id = request.id.clone();
                let response = catch_unwind(AssertUnwindSafe(|| server.request(request)))
                    .unwrap_or_else(|_| {
                        Response::new_err(
                            id,
                            ErrorCode::InternalError as i32,
                            "internal error in the policy language server (a bug: please report it)"
                                .into(),
                        )
                    });
                connection
                    .sender
                    .send(Message::Response(response))
                    .map_err(|e| e.to_string())?;
            }
            Message::Notification(note) => {
                if note.method == notification::Exit::METHOD {
                    return Ok(false);
                }
                // A notification has no answer: a handler that panics loses only that change.
                let _ = catch_unwind(AssertUnwindSafe(|| server.notification(note)));
            }
            Message::Response(_) => {}
        }
        for message in server.outbox.drain(..) {
            connection.sender.send(message).map_err(|e| e.to_string())?;
        }
    }
}

/// What the server says it can do.
fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match encoding {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(lsp_types::TextDocumentSyncSaveOptions::Supported(true)),
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec!["{".into(), "[".into(), ",".into()]),
            ..CompletionOptions::default()
        }),
        code_action_provider: Some(CodeActionProviderCapability::Options(
            lsp_types::CodeActionOptions {
                code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                ..lsp_types::CodeActionOptions::default()
            },
        )),
        // Advertised once `format_text` formats (see the `format` module).
        document_formatting_provider: format::AVAILABLE.then_some(OneOf::Left(true)),
        ..ServerCapabilities::default()
    }
}

/// The open documents, and what is waiting to be sent.
struct Server {
    documents: HashMap<Uri, Document>,
    encoding: Encoding,
    outbox: Vec<Message>,
}

/// A request's parameters, or the error response to a request whose parameters do not read.
fn params<R: request::Request>(
    request: Request,
) -> Result<(lsp_server::RequestId, R::Params), Response> {
    let id = request.id.clone();
    serde_json::from_value(request.params)
        .map(|p| (request.id, p))
        .map_err(|e| {
            Response::new_err(
                id,
                ErrorCode::InvalidParams as i32,
                format!("invalid parameters: {e}"),
            )
        })
}

/// The answer to a request, as JSON.
fn ok(id: lsp_server::RequestId, result: impl serde::Serialize) -> Response {
    match serde_json::to_value(result) {
        Ok(value) => Response {
            id,
            result: Some(value),
            error: None,
        },
        Err(e) => Response::new_err(id, ErrorCode::InternalError as i32, e.to_string()),
    }
}

impl Server {
    fn request(&mut self, request: Request) -> Response {
        let method = request.method.clone();
        let answer = match method.as_str() {
            request::HoverRequest::METHOD => self.hover(request),
            request::GotoDefinition::METHOD => self.definition(request),
            request::References::METHOD => self.references(request),
            request::Completion::METHOD => self.completion(request),
            request::CodeActionRequest::METHOD => self.code_action(request),
            request::DocumentSymbolRequest::METHOD => self.document_symbol(request),
            request::Formatting::METHOD => self.formatting(request),
            _ => Err(Response::new_err(
                request.id,
                ErrorCode::MethodNotFound as i32,
                format!("`{method}` is not supported by the policy language server"),
            )),
        };
        answer.unwrap_or_else(|error| error)
    }

    /// The document at `uri`, analysed; an error response for a document that is not open.
    fn document(&mut self, id: &lsp_server::RequestId, uri: &Uri) -> Result<&Document, Response> {
        self.analyse(uri);
        self.documents.get(uri).ok_or_else(|| not_open(id, uri))
    }

    fn hover(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::HoverRequest>(request)?;
        let at = p.text_document_position_params;
        let doc = self.document(&id, &at.text_document.uri)?;
        let offset = doc.lines.offset(&doc.text, at.position);
        Ok(ok(id, features::hover(doc, offset)))
    }

    fn definition(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::GotoDefinition>(request)?;
        let at = p.text_document_position_params;
        let uri = at.text_document.uri;
        let encoding = self.encoding;
        self.analyse(&uri);
        let documents = &self.documents;
        let doc = documents.get(&uri).ok_or_else(|| not_open(&id, &uri))?;
        let offset = doc.lines.offset(&doc.text, at.position);
        let found = features::definition(doc, &uri, offset, encoding, |path| {
            read_file(documents, path)
        });
        Ok(ok(id, found.map(GotoDefinitionResponse::Scalar)))
    }

    fn references(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::References>(request)?;
        let at = p.text_document_position;
        let uri = at.text_document.uri;
        let declaration = p.context.include_declaration;
        let doc = self.document(&id, &uri)?;
        let offset = doc.lines.offset(&doc.text, at.position);
        let Some((Some(file), kind, name)) = features::declared(doc, offset) else {
            // A buffer without a file (or nothing under the cursor): its own uses only.
            let found = features::references(doc, &uri, offset, declaration);
            return Ok(ok(id, found));
        };
        // The declaring file and every open file that imports it. Open files are analysed first.
        let open: Vec<Uri> = self.documents.keys().cloned().collect();
        open.iter().for_each(|u| self.analyse(u));
        let mut found = Vec::new();
        let mut declaring_open = false;
        for (u, d) in &self.documents {
            declaring_open |= d
                .path
                .as_deref()
                .is_some_and(|p| features::same_file(p, &file));
            found.extend(features::uses_in(d, u, &file, kind, &name, declaration));
        }
        // A library that is not open: its declaration, from the disk.
        if declaration && !declaring_open {
            found.extend(declaration_on_disk(&file, kind, &name, self.encoding));
        }
        found.sort_by(|a, b| {
            (a.uri.as_str(), a.range.start.line, a.range.start.character).cmp(&(
                b.uri.as_str(),
                b.range.start.line,
                b.range.start.character,
            ))
        });
        Ok(ok(id, found))
    }

    fn completion(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::Completion>(request)?;
        let at = p.text_document_position;
        let doc = self.document(&id, &at.text_document.uri)?;
        let offset = doc.lines.offset(&doc.text, at.position);
        let items = features::completion(doc, offset);
        Ok(ok(id, CompletionResponse::Array(items)))
    }

    fn code_action(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::CodeActionRequest>(request)?;
        let uri = p.text_document.uri;
        let doc = self.document(&id, &uri)?;
        Ok(ok(id, features::code_actions(doc, &uri, p.range)))
    }

    fn document_symbol(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::DocumentSymbolRequest>(request)?;
        let doc = self.document(&id, &p.text_document.uri)?;
        Ok(ok(
            id,
            DocumentSymbolResponse::Nested(features::document_symbols(doc)),
        ))
    }

    fn formatting(&mut self, request: Request) -> Result<Response, Response> {
        let (id, p) = params::<request::Formatting>(request)?;
        let doc = self.document(&id, &p.text_document.uri)?;
        match format_text(&doc.text) {
            // Already in the canonical layout: no edit, so the editor keeps its cursor and history.
            Some(formatted) if formatted == doc.text => {
                Ok(ok(id, Vec::<lsp_types::TextEdit>::new()))
            }
            Some(formatted) => {
                let end = doc.lines.position(&doc.text, doc.text.len());
                let whole = lsp_types::Range::new(lsp_types::Position::new(0, 0), end);
                Ok(ok(id, vec![lsp_types::TextEdit::new(whole, formatted)]))
            }
            None => Err(Response::new_err(
                id,
                ErrorCode::RequestFailed as i32,
                "the file cannot be formatted while it has syntax errors".into(),
            )),
        }
    }

    fn notification(&mut self, note: Notification) {
        let encoding = self.encoding;
        match note.method.as_str() {
            notification::DidOpenTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidOpenTextDocumentParams>(note.params)
                else {
                    return;
                };
                let doc = p.text_document;
                let path = uri::to_path(&doc.uri);
                self.documents.insert(
                    doc.uri,
                    Document::new(path, doc.version, doc.text, encoding),
                );
            }
            notification::DidChangeTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidChangeTextDocumentParams>(note.params)
                else {
                    return;
                };
                let Some(doc) = self.documents.get_mut(&p.text_document.uri) else {
                    return;
                };
                let mut text = doc.text.clone();
                for change in p.content_changes {
                    match change.range {
                        // Ranged changes, should a client send them: applied in order.
                        Some(range) => {
                            let lines = lines::Lines::new(&text, encoding);
                            let start = lines.offset(&text, range.start);
                            let end = lines.offset(&text, range.end).max(start);
                            text.replace_range(start..end, &change.text);
                        }
                        None => text = change.text,
                    }
                }
                // Documents that import this one are analysed again when it is saved: loading reads
                // libraries from the disk.
                doc.set_text(text, p.text_document.version, encoding);
            }
            notification::DidSaveTextDocument::METHOD
            | notification::DidChangeWatchedFiles::METHOD => {
                // Files on disk changed (a save, or a library or calendar the editor watches): what
                // imports them or reads the calendars may check differently.
                self.documents.values_mut().for_each(|d| d.analysed = false);
            }
            notification::DidCloseTextDocument::METHOD => {
                let Ok(p) =
                    serde_json::from_value::<lsp_types::DidCloseTextDocumentParams>(note.params)
                else {
                    return;
                };
                if self.documents.remove(&p.text_document.uri).is_some() {
                    self.publish(p.text_document.uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    /// Analyses the document at `uri` if its text changed since.
    fn analyse(&mut self, uri: &Uri) {
        let Some(mut doc) = self.documents.remove(uri) else {
            return;
        };
        if !doc.analysed {
            let documents = &self.documents;
            let analysed = catch_unwind(AssertUnwindSafe(|| {
                doc.analyse(|path| read_file(documents, path))
            }));
            if analysed.is_err() {
                // The document stays open, with the failure as its diagnostic.
                doc.analysed = true;
                doc.diagnostics = vec![policy::diagnostics::Diagnostic::error(
                    "policy::lsp::internal",
                    "internal error while checking this file (a bug: please report it)",
                    policy::source::Span::default(),
                )];
            }
        }
        self.documents.insert(uri.clone(), doc);
    }

    /// Analyses every changed document and queues its diagnostics.
    fn publish_changed(&mut self) {
        let changed: Vec<Uri> = self
            .documents
            .iter()
            .filter(|(_, d)| !d.analysed)
            .map(|(u, _)| u.clone())
            .collect();
        for uri in changed {
            self.analyse(&uri);
            if let Some(doc) = self.documents.get(&uri) {
                let diagnostics = doc
                    .diagnostics
                    .iter()
                    .map(|d| features::to_lsp(doc, &uri, d))
                    .collect();
                let version = Some(doc.version);
                self.publish(uri, diagnostics, version);
            }
        }
    }

    fn publish(&mut self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let params = PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.outbox.push(Message::Notification(Notification::new(
            notification::PublishDiagnostics::METHOD.into(),
            params,
        )));
    }
}

fn not_open(id: &lsp_server::RequestId, uri: &Uri) -> Response {
    Response::new_err(
        id.clone(),
        ErrorCode::InvalidParams as i32,
        format!("`{}` is not open", uri.as_str()),
    )
}

/// Where the file at `path` (not open) declares `name` as a `kind`.
fn declaration_on_disk(
    path: &Path,
    kind: policy::symbols::SymbolKind,
    name: &str,
    encoding: Encoding,
) -> Option<lsp_types::Location> {
    let text = std::fs::read_to_string(path).ok()?;
    let index = policy::symbols::SymbolIndex::new(&text).ok()?;
    let symbol = index.find(name, kind)?;
    let lines = lines::Lines::new(&text, encoding);
    Some(lsp_types::Location::new(
        uri::from_path(path)?,
        lines.range(&text, symbol.span),
    ))
}

/// The text of the file at `path`: an open document's, else the disk's.
fn read_file(documents: &HashMap<Uri, Document>, path: &Path) -> Option<String> {
    documents
        .values()
        .find(|d| d.path.as_deref() == Some(path))
        .map(|d| d.text.clone())
        .or_else(|| std::fs::read_to_string(path).ok())
}
