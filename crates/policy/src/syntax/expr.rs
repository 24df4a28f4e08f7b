//! Expressions: the grammar gives an `expr` as a flat run `prefix* primary postfix* (infix prefix* primary
//! postfix*)*`; this builds the tree by precedence (a Pratt parser's answer, by an operator stack). It
//! runs in a loop with explicit stacks, so neither a long chain of operators nor deep parentheses grow the
//! native stack, and it counts each node's depth as it builds it: an expression deeper than
//! `MAX_EXPR_DEPTH` is refused at the operation that passes the limit, before anything deeper exists.
//!
//! Precedence, loosest first: `rounded` (postfix), `or`, `and`, `not` (prefix), comparisons and windows,
//! `in {...}` / `not in {...}` (postfix), `+ -`, `* /`, `-` (prefix). Infix operators are left-associative.

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::grammar::Rule;
use super::lower::{
    internal, lower_decimal, lower_ident, lower_integer, lower_quantity, lower_string, next,
    next_part, parts, single, span_of, Result,
};
use super::MAX_EXPR_DEPTH;
use crate::diagnostics::Diagnostic;
use crate::source::{Span, Spanned};

/// An expression and its depth: the most operations on a path from it down to an operand.
struct Node {
    expr: Expr,
    depth: usize,
}

/// An operator waiting for its operands, with its binding power.
struct Pending<'i> {
    op: Pair<'i, Rule>,
    prefix: bool,
    power: u8,
}

impl Pending<'_> {
    /// The power an operator arriving after this one's operand must exceed to take that operand: an
    /// infix operator keeps its own (left-associative), a prefix operator takes only tighter ones.
    fn right_power(&self) -> u8 {
        if self.prefix {
            self.power - 1
        } else {
            self.power
        }
    }
}

/// A construct whose parts are being lowered.
enum Frame<'i> {
    /// An `expr`: its remaining pairs, operators waiting, operands built.
    Ops {
        rest: Pairs<'i, Rule>,
        pending: Vec<Pending<'i>>,
        operands: Vec<Node>,
    },
    /// `name(arg, ...)`: the remaining pairs (the arguments) and the arguments lowered.
    Call {
        name: Ident,
        span: Span,
        rest: Pairs<'i, Rule>,
        args: Vec<Node>,
    },
    /// `if c then a else b`: the remaining pairs and the parts lowered.
    If {
        span: Span,
        rest: Pairs<'i, Rule>,
        parts: Vec<Node>,
    },
}

/// What a frame asks for next.
enum Step<'i> {
    /// Lower this pair (a nested `expr`, a call, an `if`) first and hand its node back.
    Enter(Frame<'i>),
    /// Done: this node is the frame's value.
    Done(Node),
    Continue,
}

pub(super) fn lower_expr(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = Span::from(pair.as_span());
    let mut frames = vec![ops(pair)];
    let mut value: Option<Node> = None;
    while let Some(frame) = frames.last_mut() {
        if let Some(node) = value.take() {
            frame.accept(node);
        }
        match frame.step()? {
            Step::Enter(inner) => frames.push(inner),
            Step::Done(node) => {
                frames.pop();
                value = Some(node);
            }
            Step::Continue => {}
        }
    }
    value.map(|n| n.expr).ok_or_else(|| internal(span))
}

fn ops(pair: Pair<'_, Rule>) -> Frame<'_> {
    Frame::Ops {
        rest: pair.into_inner(),
        pending: Vec::new(),
        operands: Vec::new(),
    }
}

fn prefix_power(rule: Rule) -> Option<u8> {
    match rule {
        Rule::not_op => Some(40),
        Rule::neg_op => Some(90),
        _ => None,
    }
}

fn infix_power(rule: Rule) -> Option<u8> {
    match rule {
        Rule::or_op => Some(20),
        Rule::and_op => Some(30),
        Rule::eq_op
        | Rule::ne_op
        | Rule::lt_op
        | Rule::le_op
        | Rule::gt_op
        | Rule::ge_op
        | Rule::window => Some(50),
        Rule::add_op | Rule::sub_op => Some(70),
        Rule::mul_op | Rule::div_op => Some(80),
        _ => None,
    }
}

fn postfix_power(rule: Rule) -> Option<u8> {
    match rule {
        Rule::rounded => Some(10),
        Rule::in_set | Rule::not_in_set => Some(60),
        _ => None,
    }
}

impl<'i> Frame<'i> {
    /// Takes the node of a construct this frame entered.
    fn accept(&mut self, node: Node) {
        match self {
            Frame::Ops { operands, .. } => operands.push(node),
            Frame::Call { args, .. } => args.push(node),
            Frame::If { parts, .. } => parts.push(node),
        }
    }

    fn step(&mut self) -> Result<Step<'i>> {
        match self {
            Frame::Ops {
                rest,
                pending,
                operands,
            } => {
                let Some(pair) = rest.next() else {
                    while let Some(op) = pending.pop() {
                        apply(op, operands)?;
                    }
                    return match (operands.pop(), operands.is_empty()) {
                        (Some(node), true) => Ok(Step::Done(node)),
                        _ => Err(internal(Span::default())),
                    };
                };
                let rule = pair.as_rule();
                if let Some(power) = prefix_power(rule) {
                    pending.push(Pending {
                        op: pair,
                        prefix: true,
                        power,
                    });
                } else if let Some(power) = infix_power(rule) {
                    reduce(pending, operands, power)?;
                    pending.push(Pending {
                        op: pair,
                        prefix: false,
                        power,
                    });
                } else if let Some(power) = postfix_power(rule) {
                    reduce(pending, operands, power)?;
                    let operand = operands.pop().ok_or_else(|| internal(span_of(&pair)))?;
                    operands.push(postfix(pair, operand)?);
                } else {
                    return primary(pair, operands);
                }
                Ok(Step::Continue)
            }
            Frame::Call {
                name,
                span,
                rest,
                args,
            } => Ok(match rest.next() {
                Some(arg) => Step::Enter(ops(arg)),
                None => {
                    let depth = deepest(args.iter());
                    let args = std::mem::take(args).into_iter().map(|a| a.expr).collect();
                    let at = name.span;
                    let kind = ExprKind::Call(name.clone(), args);
                    Step::Done(node(kind, *span, depth, at)?)
                }
            }),
            Frame::If { span, rest, parts } => match rest.find(|p| p.as_rule() == Rule::expr) {
                Some(part) => Ok(Step::Enter(ops(part))),
                None => {
                    let depth = deepest(parts.iter());
                    let [c, a, b]: [Node; 3] = std::mem::take(parts)
                        .try_into()
                        .map_err(|_| internal(*span))?;
                    let kind = ExprKind::If(Box::new(c.expr), Box::new(a.expr), Box::new(b.expr));
                    let keyword = Span::new(span.start as usize, span.start as usize + 2);
                    Ok(Step::Done(node(kind, *span, depth, keyword)?))
                }
            },
        }
    }
}

/// The greatest depth among `nodes` (0 for none).
fn deepest<'a>(nodes: impl Iterator<Item = &'a Node>) -> usize {
    nodes.map(|n| n.depth).max().unwrap_or(0)
}

/// An operation over operands at most `below` deep: refused when it would pass `MAX_EXPR_DEPTH`.
/// `at` is where to point: the operator.
fn node(kind: ExprKind, span: Span, below: usize, at: Span) -> Result<Node> {
    let depth = below + 1;
    if depth > MAX_EXPR_DEPTH {
        return Err(too_deep(at));
    }
    Ok(Node {
        expr: Expr { kind, span },
        depth,
    })
}

#[cold]
fn too_deep(at: Span) -> Diagnostic {
    Diagnostic::error(
        "policy::parse::too_deep",
        "this expression is nested too deeply",
        at,
    )
    .with_label(format!(
        "this operation is {} levels deep; at most {MAX_EXPR_DEPTH} are allowed",
        MAX_EXPR_DEPTH + 1
    ))
    .with_help(
        "each operator of a chain nests one level: group a long chain with parentheses, \
         e.g. `(a and b) and (c and d)`, or simplify it",
    )
}

/// Applies the operators waiting whose operand is complete before an operator of `power` arrives.
fn reduce(pending: &mut Vec<Pending<'_>>, operands: &mut Vec<Node>, power: u8) -> Result<()> {
    while pending.last().is_some_and(|p| p.right_power() >= power) {
        if let Some(op) = pending.pop() {
            apply(op, operands)?;
        }
    }
    Ok(())
}

/// Builds a prefix or infix operation from the operands on top of the stack.
fn apply(op: Pending<'_>, operands: &mut Vec<Node>) -> Result<()> {
    let at = span_of(&op.op);
    let right = operands.pop().ok_or_else(|| internal(at))?;
    let built = if op.prefix {
        let span = at.to(right.expr.span);
        let inner = Box::new(right.expr);
        let kind = match op.op.as_rule() {
            Rule::not_op => ExprKind::Not(inner),
            Rule::neg_op => ExprKind::Neg(inner),
            _ => return Err(internal(span)),
        };
        node(kind, span, right.depth, at)?
    } else {
        let left = operands.pop().ok_or_else(|| internal(at))?;
        let span = left.expr.span.to(right.expr.span);
        let below = left.depth.max(right.depth);
        let (lhs, rhs) = (Box::new(left.expr), Box::new(right.expr));
        let kind = match binary_op(op.op.as_rule()) {
            Some(binary) => ExprKind::Binary(binary, lhs, rhs),
            None if op.op.as_rule() == Rule::window => lower_window(op.op, lhs, rhs)?,
            None => return Err(internal(span)),
        };
        node(kind, span, below, at)?
    };
    operands.push(built);
    Ok(())
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::or_op => BinaryOp::Or,
        Rule::and_op => BinaryOp::And,
        Rule::eq_op => BinaryOp::Eq,
        Rule::ne_op => BinaryOp::Ne,
        Rule::lt_op => BinaryOp::Lt,
        Rule::le_op => BinaryOp::Le,
        Rule::gt_op => BinaryOp::Gt,
        Rule::ge_op => BinaryOp::Ge,
        Rule::add_op => BinaryOp::Add,
        Rule::sub_op => BinaryOp::Sub,
        Rule::mul_op => BinaryOp::Mul,
        Rule::div_op => BinaryOp::Div,
        _ => return None,
    })
}

/// `subject within 7 days after anchor`
fn lower_window(op: Pair<'_, Rule>, subject: Box<Expr>, anchor: Box<Expr>) -> Result<ExprKind> {
    let span = span_of(&op);
    let mut inner = op.into_inner();
    let relation = single(next(&mut inner, span)?)?;
    let relation = match relation.as_rule() {
        Rule::kw_within => WindowRelation::Within,
        Rule::kw_more_than => WindowRelation::MoreThan,
        Rule::kw_at_least => WindowRelation::AtLeast,
        _ => return Err(internal(span)),
    };
    let (count, unit) = lower_quantity(next(&mut inner, span)?)?;
    let direction = match single(next(&mut inner, span)?)?.as_rule() {
        Rule::kw_after => WindowDirection::After,
        Rule::kw_before => WindowDirection::Before,
        _ => return Err(internal(span)),
    };
    Ok(ExprKind::Window {
        subject,
        relation,
        count,
        unit,
        direction,
        anchor,
    })
}

/// `in {...}`, `not in {...}`, `rounded MODE to QUANTUM` applied to an operand.
fn postfix(op: Pair<'_, Rule>, operand: Node) -> Result<Node> {
    let at = span_of(&op);
    let span = operand.expr.span.to(at);
    let kind = match op.as_rule() {
        Rule::in_set | Rule::not_in_set => {
            let negated = op.as_rule() == Rule::not_in_set;
            let set = parts(single(op)?)
                .map(|item| {
                    Ok(match item.as_rule() {
                        Rule::string => SetItem {
                            value: lower_string(item)?,
                            quoted: true,
                        },
                        _ => SetItem {
                            value: lower_ident(item),
                            quoted: false,
                        },
                    })
                })
                .collect::<Result<_>>()?;
            ExprKind::InSet {
                subject: Box::new(operand.expr),
                set,
                negated,
            }
        }
        Rule::rounded => {
            let mut inner = parts(op);
            let mode = lower_ident(next_part(&mut inner, span)?);
            let quantum = next_part(&mut inner, span)?;
            ExprKind::Rounded {
                value: Box::new(operand.expr),
                mode,
                quantum: Spanned::new(lower_decimal(&quantum)?, span_of(&quantum)),
            }
        }
        _ => return Err(internal(span)),
    };
    node(kind, span, operand.depth, at)
}

/// An operand: a literal or a name at once; a parenthesised expression, a call or an `if` as a frame.
fn primary<'i>(pair: Pair<'i, Rule>, operands: &mut Vec<Node>) -> Result<Step<'i>> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::expr => return Ok(Step::Enter(ops(pair))),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = lower_ident(next(&mut inner, span)?);
            return Ok(Step::Enter(Frame::Call {
                name,
                span,
                rest: inner,
                args: Vec::new(),
            }));
        }
        Rule::if_expr => {
            return Ok(Step::Enter(Frame::If {
                span,
                rest: pair.into_inner(),
                parts: Vec::new(),
            }))
        }
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::integer => ExprKind::Int(lower_integer(&pair)?),
        Rule::decimal => ExprKind::Decimal(lower_decimal(&pair)?),
        Rule::string => ExprKind::Str(lower_string(pair)?.node),
        Rule::date_literal => ExprKind::Date(pair.as_str().to_string()),
        Rule::timestamp_literal => ExprKind::Timestamp(pair.as_str().to_string()),
        Rule::ident => ExprKind::Name(pair.as_str().to_string()),
        Rule::quantity | Rule::fractional_quantity => {
            let (count, unit) = lower_quantity(pair)?;
            ExprKind::Quantity(count, unit)
        }
        _ => return Err(internal(span)),
    };
    operands.push(Node {
        expr: Expr { kind, span },
        depth: 0,
    });
    Ok(Step::Continue)
}
