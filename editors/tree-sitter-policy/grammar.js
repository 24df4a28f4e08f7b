/**
 * @file The tree-sitter grammar of `.policy` files (refund and lifecycle policies written as code), for
 * the highlighting, folding and structure of Neovim, Helix, Zed and other tree-sitter editors.
 *
 * It follows `crates/policy/grammar/policy.pest`, the language's own grammar; checking stays with the
 * language server (`policy lsp`). Operator precedence is that of docs/language.md, section 11.1.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

const PREC = {
  if: 0,
  rounded: 1,
  or: 2,
  and: 3,
  not: 4,
  compare: 5,
  in: 6,
  add: 7,
  mul: 8,
  neg: 9,
};

/** One or more `rule`, separated by commas, with an optional comma after the last. */
function commaSep1(rule) {
  return seq(rule, repeat(seq(',', rule)), optional(','));
}

/** Zero or more `rule`, separated by commas, with an optional comma after the last. */
function commaSep(rule) {
  return optional(commaSep1(rule));
}

module.exports = grammar({
  name: 'policy',

  extras: ($) => [/\s/, $.comment],

  word: ($) => $.identifier,

  rules: {
    source_file: ($) => seq(optional('\uFEFF'), $.header, repeat($._item)),

    // ---------------------------------------------------------------- header
    header: ($) =>
      seq(choice('policy', 'library'), field('name', $.policy_name), repeat($._header_entry)),

    policy_name: (_) => /[A-Za-z][A-Za-z0-9_-]*/,

    _header_entry: ($) =>
      choice($.provider, $.document, $.zone, $.calendar, $.effective, $.minor_units),

    provider: ($) => seq('provider', $.text),
    document: ($) => seq('document', field('file', $.string), optional(field('title', $.text))),
    zone: ($) => seq('zone', $.string),
    calendar: ($) => seq('calendar', field('name', $.identifier)),
    effective: ($) =>
      seq('effective', 'from', choice($.timestamp, $.date), optional(seq('by', field('by', $.identifier)))),
    minor_units: ($) => seq('minor_units', field('currency', $.string), field('digits', $.integer)),

    // ---------------------------------------------------------------- declarations
    _item: ($) =>
      choice(
        $.import_declaration,
        $.vocabulary_declaration,
        $.enum_declaration,
        $.field_declaration,
        $.require_declaration,
        $.constraint_declaration,
        $.let_declaration,
        $.action_declaration,
      ),

    import_declaration: ($) => seq('import', field('path', $.string)),

    vocabulary_declaration: ($) =>
      seq(
        field('kind', choice('steps', 'refund_destinations', 'review_kinds')),
        '{',
        commaSep1(field('value', $.identifier)),
        '}',
      ),

    enum_declaration: ($) =>
      seq('enum', field('name', $.identifier), '{', commaSep1(field('value', choice($.identifier, $.string))), '}'),

    field_declaration: ($) =>
      seq(
        'field',
        field('name', $.identifier),
        ':',
        field('type', $.identifier),
        optional('?'),
        optional(seq('=', field('default', $._expression))),
      ),

    require_declaration: ($) =>
      seq('require', field('field', $.identifier), optional(seq('when', field('condition', $._expression)))),

    constraint_declaration: ($) =>
      seq('constraint', field('condition', $._expression), 'else', field('message', $.text)),

    let_declaration: ($) => seq('let', field('name', $.identifier), '=', field('value', $._expression)),

    action_declaration: ($) =>
      seq(
        'action',
        field('name', $.identifier),
        optional('unique'),
        '{',
        repeat(choice($.default_declaration, $.require_declaration, $.rule_declaration, $.example)),
        '}',
      ),

    default_declaration: ($) => seq('default', $._attribute),

    rule_declaration: ($) =>
      seq(
        'rule',
        field('name', $.identifier),
        optional(seq('when', field('condition', $._expression))),
        'then',
        field('outcome', $.outcome),
        repeat($._attribute),
        repeat($.reason),
      ),

    outcome: (_) => choice('allowed', 'conditional', 'denied', 'undetermined'),

    _attribute: ($) => choice($.requires_attribute, $.value_attribute, $.attribute),

    requires_attribute: ($) => seq('requires', '[', commaSep(field('step', $.identifier)), ']'),

    value_attribute: ($) => seq('value', field('name', $.identifier), '=', field('value', $._expression)),

    attribute: ($) =>
      seq(
        field('name', alias(choice('amount', 'refund_to', 'review_by', 'review', 'next_status'), $.attribute_name)),
        '=',
        field('value', $._expression),
      ),

    reason: ($) => seq('because', field('text', $.text), optional($.citation)),

    citation: ($) => seq('cite', field('text', $.text), optional(seq('in', field('document', $.string)))),

    example: ($) =>
      seq(
        'example',
        field('name', $.text),
        '{',
        repeat(
          choice(
            seq('at', field('at', $.string)),
            seq('order', field('order', $.json_object)),
            seq('expect', field('expect', $.json_object)),
          ),
        ),
        '}',
      ),

    // ---------------------------------------------------------------- expressions
    _expression: ($) =>
      choice(
        $.binary_expression,
        $.not_expression,
        $.negation,
        $.in_expression,
        $.window_expression,
        $.rounded_expression,
        $.if_expression,
        $._primary,
      ),

    _primary: ($) =>
      choice(
        $.timestamp,
        $.date,
        $.quantity,
        $.integer,
        $.decimal,
        $.boolean,
        $.string,
        $.call,
        $.identifier,
        $.parenthesized_expression,
      ),

    binary_expression: ($) => {
      const levels = [
        [PREC.or, 'or'],
        [PREC.and, 'and'],
        [PREC.compare, choice('==', '!=', '<', '<=', '>', '>=')],
        [PREC.add, choice('+', '-')],
        [PREC.mul, choice('*', '/')],
      ];
      return choice(
        ...levels.map(([precedence, operator]) =>
          prec.left(
            /** @type {number} */ (precedence),
            seq(
              field('left', $._expression),
              field('operator', /** @type {RuleOrLiteral} */ (operator)),
              field('right', $._expression),
            ),
          ),
        ),
      );
    },

    not_expression: ($) => prec(PREC.not, seq('not', field('operand', $._expression))),

    negation: ($) => prec(PREC.neg, seq('-', field('operand', $._expression))),

    in_expression: ($) =>
      prec.left(PREC.in, seq(field('subject', $._expression), optional('not'), 'in', field('set', $.set))),

    set: ($) => seq('{', commaSep1(choice($.identifier, $.string)), '}'),

    window_expression: ($) =>
      prec.left(
        PREC.compare,
        seq(
          field('subject', $._expression),
          field('relation', $.window_relation),
          field('distance', $.quantity),
          field('direction', choice('after', 'before')),
          field('anchor', $._expression),
        ),
      ),

    window_relation: (_) => choice('within', seq('more', 'than'), seq('at', 'least')),

    rounded_expression: ($) =>
      prec.left(
        PREC.rounded,
        seq(field('value', $._expression), 'rounded', field('mode', $.identifier), 'to', field('quantum', $.decimal)),
      ),

    if_expression: ($) =>
      prec.right(
        PREC.if,
        seq(
          'if',
          field('condition', $._expression),
          'then',
          field('consequence', $._expression),
          'else',
          field('alternative', $._expression),
        ),
      ),

    call: ($) =>
      seq(field('function', $.identifier), '(', optional(seq($._expression, repeat(seq(',', $._expression)))), ')'),

    parenthesized_expression: ($) => seq('(', $._expression, ')'),

    // `168 hours`, `7 x 24 hours`, `5 calendar days`, `15 business days`, `1.5 calendar months` (an error the
    // checker explains).
    quantity: ($) =>
      seq(
        field('count', choice($.integer, $.decimal)),
        optional(seq('x', field('factor', $.integer))),
        field('unit', $.unit),
      ),

    unit: (_) =>
      choice(
        seq('calendar', choice('days', 'months', 'month', 'years', 'year')),
        seq('business', 'days'),
        choice('seconds', 'second', 'minutes', 'minute', 'hours', 'hour', 'days', 'day', 'weeks', 'week'),
      ),

    // ---------------------------------------------------------------- examples' JSON
    json_object: ($) => seq('{', commaSep(seq(field('key', $.string), ':', field('value', $._json_value))), '}'),
    json_array: ($) => seq('[', commaSep($._json_value), ']'),
    _json_value: ($) => choice($.json_object, $.json_array, $.string, $.json_number, $.boolean, $.null),
    json_number: (_) => token(/-?\d+(\.\d+)?([eE][+-]?\d+)?/),
    null: (_) => 'null',

    // ---------------------------------------------------------------- lexical
    // Adjacent strings join, so a long citation can run over several lines.
    text: ($) => prec.right(repeat1($.string)),
    string: (_) => token(seq('"', repeat(choice(/[^"\\]/, /\\(.|\n)/)), '"')),
    timestamp: (_) =>
      token(
        prec(
          2,
          /\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?/,
        ),
      ),
    date: (_) => token(prec(1, /\d{4,}-\d{2}-\d{2}/)),
    integer: (_) => /\d+/,
    decimal: (_) => /\d+\.\d+/,
    boolean: (_) => choice('true', 'false'),
    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
    comment: (_) => token(seq('#', /.*/)),
  },
});
