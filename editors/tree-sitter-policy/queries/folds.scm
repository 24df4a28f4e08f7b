; Folding: actions, rules, examples, enums and vocabularies.
[
  (action_declaration)
  (rule_declaration)
  (example)
  (enum_declaration)
  (vocabulary_declaration)
  (json_object)
] @fold
