; Highlighting of `.policy` files. Capture names are those Neovim's and Helix's themes know. The order is
; Neovim's: where two patterns capture one node, the later wins (Helix takes the first: move the two
; `identifier` patterns below to the end of the file there).

(identifier) @variable
((identifier) @variable.builtin
  (#eq? @variable.builtin "now"))

(comment) @comment
((comment) @comment.note
  (#match? @comment.note "^#[ \t]*allow[(]"))

(string) @string
(text (string) @string)
(json_object key: (string) @property)
(timestamp) @constant.builtin
(date) @constant.builtin
(integer) @number
(decimal) @number
(json_number) @number
(boolean) @boolean
(null) @constant.builtin

[
  "policy"
  "library"
  "provider"
  "document"
  "zone"
  "calendar"
  "effective"
  "from"
  "by"
  "minor_units"
  "import"
] @keyword

[
  "enum"
  "field"
  "let"
  "action"
  "rule"
  "value"
  "default"
  "require"
  "constraint"
  "example"
  "steps"
  "refund_destinations"
  "review_kinds"
  "unique"
] @keyword

[
  "when"
  "then"
  "else"
  "if"
] @keyword.conditional

[
  "because"
  "cite"
  "requires"
  "at"
  "order"
  "expect"
] @keyword

[
  "and"
  "or"
  "not"
  "in"
  "rounded"
  "to"
  "x"
  "after"
  "before"
] @keyword.operator

(window_relation) @keyword.operator

(outcome) @constant.builtin
(unit) @type.builtin

[
  "=="
  "!="
  "<"
  "<="
  ">"
  ">="
  "+"
  "-"
  "*"
  "/"
  "="
  "?"
] @operator

["{" "}" "[" "]" "(" ")"] @punctuation.bracket
["," ":"] @punctuation.delimiter

(header name: (policy_name) @module)
(enum_declaration name: (identifier) @type)
(enum_declaration value: (identifier) @constant)
(field_declaration name: (identifier) @property)
(field_declaration type: (identifier) @type)
(let_declaration name: (identifier) @variable)
(action_declaration name: (identifier) @function)
(rule_declaration name: (identifier) @function.method)
(value_attribute name: (identifier) @property)
(attribute_name) @property
(vocabulary_declaration value: (identifier) @constant)
(requires_attribute step: (identifier) @constant)
(set (identifier) @constant)
(call function: (identifier) @function.builtin)
(rounded_expression mode: (identifier) @constant.builtin)
