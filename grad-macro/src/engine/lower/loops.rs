//! Lowering loops: `for` over ranges and arrays, `while`, `loop`, `break`, `continue`,
//! `return` inside loops, and `iter().map(…).sum()` chains.
//!
//! Every loop becomes one IR `Loop`. Iteration over arrays becomes iteration over indices
//! (`for i in 0..xs.len() { let v = xs[i]; … }`), so that the reverse sweep can write each
//! element's adjoint. The body runs with two flags: "stop" (the rest of this iteration is
//! skipped) and "exit" (the loop ends after this iteration); a loop that can exit early, and
//! every `while`/`loop`, counts its iterations for the reverse sweep.

use super::{EXIT, Frame, Jump, Lowerer, RET, RETURNED, STOP, Tail, syntax};
use crate::engine::ir::{
    Adapter, AssignOp, FloatTy, Loop, LoopKind, NodeId, Op, Stmt, Ty, VarId, VarKind,
};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, Pat};

/// What a `for` loop's pattern binds: the index, an element, or a pair (`zip`, `enumerate`).
#[derive(Clone)]
enum Elem {
    Index,
    Of(NodeId),
    Pair(Box<Elem>, Box<Elem>),
}

/// A parsed iteration source.
struct Source {
    kind: LoopKind,
    elem: Elem,
}

const FOR_SOURCES: &str = "`for` loops iterate over ranges (`a..b`, `a..=b`, with `.rev()` and \
                           `.step_by(k)`) and over arrays, slices and `Vec`s (`xs`, `&xs`, \
                           `xs.iter()`, with `.enumerate()`, `.zip(…)` and a final `.rev()`)";

impl Lowerer<'_> {
    /// `for pattern in source { body }`
    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) -> Option<NodeId> {
        let source = self.source(&f.expr)?;
        let Source { kind, elem } = source;
        let pattern = (*f.pat).clone();
        self.run_loop(f.label.as_ref(), kind, true, None, f.span(), |l, index| {
            l.bind_pattern(&pattern, &elem, index);
            l.block_stmts(&f.body, Tail::Discard);
        });
        None
    }

    /// `while cond { body }`
    pub(super) fn while_loop(&mut self, w: &syn::ExprWhile) -> Option<NodeId> {
        if let Expr::Let(l) = &*w.cond {
            self.errors.spanned(
                l,
                "`while let` is not supported in a `#[derive_grad]` function; use `while` on a \
                 `bool` condition",
            );
            return None;
        }
        self.b.open();
        self.scopes.push(Vec::new());
        let cond = self.condition(&w.cond);
        self.scopes.pop();
        let header = self.b.close();
        let kind = LoopKind::While { header, cond };
        self.run_loop(w.label.as_ref(), kind, false, None, w.span(), |l, _| {
            l.block_stmts(&w.body, Tail::Discard);
        });
        None
    }

    /// `loop { body }`, whose value is what `break value` gives.
    pub(super) fn infinite_loop(&mut self, e: &syn::ExprLoop) -> Option<NodeId> {
        let value = self.b.f.add_var("value", Ty::Unknown, VarKind::Local);
        let undef = self.undef(Ty::Unknown, e.span());
        self.b.push(Stmt::Decl(value, Some(undef)));
        self.run_loop(
            e.label.as_ref(),
            LoopKind::Infinite,
            false,
            Some(value),
            e.span(),
            |l, _| {
                l.block_stmts(&e.body, Tail::Discard);
            },
        );
        let ty = self.b.f.var(value).ty;
        (ty != Ty::Unknown).then(|| self.read_var(value, e.span()))
    }

    /// Lowers one loop: its body runs in a frame with fresh "stop" and "exit" flags.
    fn run_loop(
        &mut self,
        label: Option<&syn::Label>,
        kind: LoopKind,
        ranged: bool,
        value: Option<VarId>,
        span: Span,
        body: impl FnOnce(&mut Self, Option<NodeId>),
    ) {
        let ranged = ranged && matches!(kind, LoopKind::Range { .. });
        let infinite = matches!(kind, LoopKind::Infinite);
        self.loops.push(Frame {
            label: label.map(|l| l.name.ident.to_string()),
            jumps: Vec::new(),
            value,
            broken: false,
        });
        let index = ranged.then(|| {
            let k = u32::try_from(self.b.f.nodes.len()).unwrap_or(u32::MAX);
            self.b.unbound(Op::LoopIndex(k), Ty::Int, span)
        });
        if let (Some(index), LoopKind::Range { start, end, .. }) = (index, &kind) {
            let width = self.width(*start).with(self.width(*end));
            self.index_widths.insert(index, width);
        }
        self.b.open();
        self.scopes.push(Vec::new());
        let no = self.b.bool(false, Span::call_site());
        self.bind(STOP, no, true);
        self.bind(EXIT, no, true);
        body(self, index);
        let exit = self
            .read(EXIT, span)
            .filter(|&e| self.b.f.bool_lit(e) != Some(false));
        self.scopes.pop();
        let mut block = self.b.close();
        let frame = self.loops.pop();

        // The reverse sweep needs the number of iterations of a loop that can stop early.
        // And so does the reverse of a stepped range of 64-bit integers, which cannot be
        // reversed in place (`.step_by(k).rev()` needs a length).
        let stepped_wide = matches!(&kind, LoopKind::Range { exact: false, adapters, .. }
            if adapters.iter().any(|a| matches!(a, Adapter::StepBy(_))));
        let counted = exit.is_some() || !matches!(kind, LoopKind::Range { .. }) || stepped_wide;
        let trips = counted.then(|| {
            let count = self.b.f.add_var("iterations", Ty::Int, VarKind::Local);
            let zero = self.b.int(0, span);
            let one = self.b.int(1, span);
            self.b.push(Stmt::Decl(count, Some(zero)));
            block
                .stmts
                .insert(0, Stmt::Assign(count, AssignOp::Add, one));
            self.b.unbound(Op::ReadVar(count), Ty::Int, span)
        });
        self.b.push(Stmt::Loop(Box::new(Loop {
            kind,
            index,
            body: block,
            exit,
            trips,
        })));
        if let Some(trips) = trips {
            self.b.push(Stmt::Let(trips));
        }
        let broken = frame.as_ref().is_none_or(|f| f.broken);
        for jump in frame.map(|f| f.jumps).unwrap_or_default() {
            self.land(jump, span);
        }
        // A `loop` no `break` leaves ends only by a `return` or a jump further out: what
        // follows it is never reached from it.
        if !broken && infinite {
            let flag = self.interrupt_flag();
            self.set_flag(flag, true);
        }
    }

    /// After a loop: a jump that left it lands here, or goes on outward.
    fn land(&mut self, jump: Jump, span: Span) {
        let read = self.read_var(jump.var, span);
        let here = self.loops.len().checked_sub(1);
        if jump.target.is_some() && jump.target == here {
            // The jump was to this loop: stop this iteration (and leave, for `break`).
            self.or_flag(STOP, read, span);
            if !jump.cont {
                self.or_flag(EXIT, read, span);
            }
            let no = self.b.bool(false, span);
            self.b.push(Stmt::Assign(jump.var, AssignOp::Set, no));
        } else if let Some(frame) = here {
            // Still further out: this loop stops too, and passes the jump on.
            self.or_flag(STOP, read, span);
            self.or_flag(EXIT, read, span);
            if !self.loops[frame].jumps.iter().any(|j| j.var == jump.var) {
                self.loops[frame].jumps.push(jump);
            }
        } else if let Some((ret_var, _)) = self.ret_vars {
            // Back at function level after a `return` inside the loop.
            let value = self.read_var(ret_var, span);
            self.rebind(RET, value);
            self.rebind(RETURNED, read);
        }
    }

    /// `flag = flag || value`, folded when the flag is known to be false.
    fn or_flag(&mut self, flag: &str, value: NodeId, span: Span) {
        let Some(old) = self.read(flag, span) else {
            return;
        };
        let new = match self.b.f.bool_lit(old) {
            Some(false) => value,
            Some(true) => old,
            None => self.b.add(Op::Or, vec![old, value], Ty::Bool, span),
        };
        self.rebind(flag, new);
    }

    /// `return value` inside a loop: record it, and leave every enclosing loop.
    pub(super) fn return_from_loop(&mut self, value: NodeId) {
        let span = self.b.f.node(value).span;
        let (ret_var, flag_var) = if let Some(vars) = self.ret_vars {
            vars
        } else {
            let ret = self
                .b
                .f
                .add_var("returned_value", self.ret_ty, VarKind::Local);
            let flag = self.b.f.add_var("returned", Ty::Bool, VarKind::Local);
            let placeholder = self.ret_placeholder(span);
            let no = self.b.bool(false, span);
            self.b.push_at(1, Stmt::Decl(ret, Some(placeholder)));
            self.b.push_at(1, Stmt::Decl(flag, Some(no)));
            self.ret_vars = Some((ret, flag));
            (ret, flag)
        };
        self.b.push(Stmt::Assign(ret_var, AssignOp::Set, value));
        let yes = self.b.bool(true, span);
        self.b.push(Stmt::Assign(flag_var, AssignOp::Set, yes));
        self.leave(flag_var, None, false);
    }

    /// Stops the innermost loop and records a jump to `target` (a frame, or the function).
    fn leave(&mut self, var: VarId, target: Option<usize>, cont: bool) {
        self.set_flag(STOP, true);
        self.set_flag(EXIT, true);
        if let Some(frame) = self.loops.last_mut()
            && !frame.jumps.iter().any(|j| j.var == var)
        {
            frame.jumps.push(Jump { var, target, cont });
        }
    }

    /// `break`, `break 'label`, `break value`.
    pub(super) fn break_expr(&mut self, b: &syn::ExprBreak) -> Option<NodeId> {
        let target = self.target(b.label.as_ref(), b.span())?;
        self.loops[target].broken = true;
        if let Some(value) = &b.expr {
            let v = self.value_or_diverge(value)?;
            match self.loops[target].value {
                Some(var) => {
                    let ty = self.b.f.node(v).ty;
                    self.b.f.vars[var.index()].ty = ty;
                    self.b.push(Stmt::Assign(var, AssignOp::Set, v));
                }
                None => self
                    .errors
                    .spanned(b, "`break` with a value only leaves a `loop`"),
            }
        }
        self.jump(target, false, b.span());
        None
    }

    /// `continue`, `continue 'label`.
    pub(super) fn continue_expr(&mut self, c: &syn::ExprContinue) -> Option<NodeId> {
        let target = self.target(c.label.as_ref(), c.span())?;
        self.jump(target, true, c.span());
        None
    }

    fn target(&mut self, label: Option<&syn::Lifetime>, span: Span) -> Option<usize> {
        let found = match label {
            None => self.loops.len().checked_sub(1),
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rposition(|f| f.label.as_deref() == Some(name.as_str()))
            }
        };
        if found.is_none() {
            self.errors
                .at(span, "`break`/`continue` outside the loop it names");
        }
        found
    }

    fn jump(&mut self, target: usize, cont: bool, span: Span) {
        if target + 1 == self.loops.len() {
            self.set_flag(STOP, true);
            if !cont {
                self.set_flag(EXIT, true);
            }
            return;
        }
        let var = self.b.f.add_var(
            if cont {
                "continue_outer"
            } else {
                "break_outer"
            },
            Ty::Bool,
            VarKind::Local,
        );
        let no = self.b.bool(false, span);
        self.b.push_at(1, Stmt::Decl(var, Some(no)));
        let yes = self.b.bool(true, span);
        self.b.push(Stmt::Assign(var, AssignOp::Set, yes));
        self.leave(var, Some(target), cont);
    }

    // ----- sources and patterns -----

    /// What a `for` loop iterates over.
    fn source(&mut self, e: &Expr) -> Option<Source> {
        match e {
            Expr::Paren(p) => self.source(&p.expr),
            Expr::Group(g) => self.source(&g.expr),
            Expr::Range(r) => {
                let (Some(start), Some(end)) = (&r.start, &r.end) else {
                    self.errors.spanned(r, "ranges need both ends (`a..b`)");
                    return None;
                };
                let start = self.value_or_diverge(start)?;
                let end = self.value_or_diverge(end)?;
                let exact = self.width(start).with(self.width(end)).exact();
                Some(Source {
                    kind: LoopKind::Range {
                        start,
                        end,
                        inclusive: matches!(r.limits, syn::RangeLimits::Closed(_)),
                        adapters: Vec::new(),
                        exact,
                    },
                    elem: Elem::Index,
                })
            }
            Expr::MethodCall(m) => self.adapted_source(m),
            Expr::Reference(r) if r.mutability.is_none() => self.source(&r.expr),
            _ => self.array_source(e),
        }
    }

    fn adapted_source(&mut self, m: &syn::ExprMethodCall) -> Option<Source> {
        let method = m.method.to_string();
        let args: Vec<&Expr> = m.args.iter().collect();
        match (method.as_str(), args.as_slice()) {
            ("iter" | "into_iter" | "copied" | "cloned", []) => self.source(&m.receiver),
            ("rev", []) => {
                let mut source = self.source(&m.receiver)?;
                if let LoopKind::Range { adapters, .. } = &mut source.kind {
                    adapters.push(Adapter::Rev);
                }
                Some(source)
            }
            ("step_by", [k]) => {
                let mut source = self.source(&m.receiver)?;
                let k = self.value_or_diverge(k)?;
                if let (LoopKind::Range { adapters, .. }, Elem::Index) =
                    (&mut source.kind, &source.elem)
                {
                    adapters.push(Adapter::StepBy(k));
                    Some(source)
                } else {
                    self.errors
                        .spanned(m, "`.step_by(k)` is supported on ranges");
                    None
                }
            }
            ("enumerate", []) => {
                let mut source = self.source(&m.receiver)?;
                self.not_reversed(&source, m)?;
                source.elem = Elem::Pair(Box::new(Elem::Index), Box::new(source.elem));
                Some(source)
            }
            ("zip", [other]) => {
                let left = self.source(&m.receiver)?;
                let right = self.source(other)?;
                self.not_reversed(&left, m)?;
                self.not_reversed(&right, m)?;
                let (LoopKind::Range { end: a, .. }, LoopKind::Range { end: b, .. }) =
                    (&left.kind, &right.kind)
                else {
                    return None;
                };
                let min = self.b.f.intern(quote::quote!(min));
                let end = self.b.add(Op::Method(min), vec![*a, *b], Ty::Int, m.span());
                let mut kind = left.kind;
                if let LoopKind::Range { end: e, .. } = &mut kind {
                    *e = end;
                }
                Some(Source {
                    kind,
                    elem: Elem::Pair(Box::new(left.elem), Box::new(right.elem)),
                })
            }
            _ => {
                self.errors.spanned(m, FOR_SOURCES);
                None
            }
        }
    }

    /// `.rev()` must come last: it reverses the indices, not what `enumerate` counts.
    fn not_reversed(&mut self, source: &Source, m: &syn::ExprMethodCall) -> Option<()> {
        if let LoopKind::Range { adapters, .. } = &source.kind
            && !adapters.is_empty()
        {
            self.errors.spanned(
                m,
                "`.enumerate()` or `.zip(…)` after `.rev()` or `.step_by(…)` is not \
                     supported (`.rev().enumerate()` counts from 0 while the elements run \
                     backwards; moving `.rev()` last would change that); iterate the indices \
                     instead: `for k in 0..n { let i = n - 1 - k; … }`",
            );
            return None;
        }
        Some(())
    }

    /// An array, slice or `Vec`: iterated by index.
    fn array_source(&mut self, e: &Expr) -> Option<Source> {
        let array = self.value_or_diverge(e)?;
        // Iterated over, a call's result is an array (`for v in pair(x)`).
        self.as_array(array);
        let ty = self.b.f.node(array).ty;
        if !ty.is_array() && ty != Ty::Unknown {
            self.errors.spanned(e, FOR_SOURCES);
            return None;
        }
        let zero = self.b.int(0, e.span());
        let len = self.b.add(Op::Len, vec![array], Ty::Int, e.span());
        Some(Source {
            kind: LoopKind::Range {
                start: zero,
                end: len,
                inclusive: false,
                adapters: Vec::new(),
                exact: true,
            },
            elem: Elem::Of(array),
        })
    }

    /// Binds the names of a loop or closure pattern to the index and the elements at it.
    fn bind_pattern(&mut self, pat: &Pat, elem: &Elem, index: Option<NodeId>) {
        match (pat, elem) {
            (Pat::Wild(_), _) => {}
            (Pat::Reference(r), _) => self.bind_pattern(&r.pat, elem, index),
            (Pat::Paren(p), _) => self.bind_pattern(&p.pat, elem, index),
            (Pat::Type(t), _) => self.bind_pattern(&t.pat, elem, index),
            (Pat::Ident(p), _) if p.subpat.is_none() => {
                let Some(value) = self.elem_value(elem, index, pat.span()) else {
                    return;
                };
                let name = syntax::name_of(&p.ident);
                self.b.name(value, &name);
                self.bind(&name, value, false);
            }
            (Pat::Tuple(t), Elem::Pair(a, b)) if t.elems.len() == 2 => {
                self.bind_pattern(&t.elems[0], a, index);
                self.bind_pattern(&t.elems[1], b, index);
            }
            _ => self.errors.spanned(
                pat,
                "this pattern does not match what the loop yields; use a name, `&name`, `_`, or \
                 a pair for `.enumerate()` and `.zip(…)`",
            ),
        }
    }

    fn elem_value(&mut self, elem: &Elem, index: Option<NodeId>, span: Span) -> Option<NodeId> {
        let index = index?;
        match elem {
            Elem::Index => Some(index),
            Elem::Of(array) => {
                let ty = self.b.f.node(*array).ty.element();
                Some(self.b.add(Op::Index, vec![*array, index], ty, span))
            }
            Elem::Pair(..) => {
                self.errors.at(
                    span,
                    "a pair (`.enumerate()`, `.zip(…)`) needs a tuple pattern `(a, b)`",
                );
                None
            }
        }
    }

    // ----- folds -----

    /// `source.map(|pattern| body).sum()` (or `.product()`, or without `.map`): a loop
    /// accumulating into a variable, in the order `Iterator::sum` adds.
    pub(super) fn iter_fold(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        let product = m.method == "product";
        let (source_expr, closure) = match &*m.receiver {
            Expr::MethodCall(map) if map.method == "map" && map.args.len() == 1 => {
                match &map.args[0] {
                    Expr::Closure(c) if c.inputs.len() == 1 => (&*map.receiver, Some(c)),
                    other => {
                        self.errors.spanned(
                            other,
                            "`.map(…)` before `.sum()` takes a closure of one parameter",
                        );
                        return Some(self.poison(m.span()));
                    }
                }
            }
            receiver => (receiver, None),
        };
        if let Some(c) = closure
            && syntax::contains_return(&c.body)
        {
            self.errors.spanned(
                &c.body,
                "`return` inside a `.map(…)` closure is not supported",
            );
            return Some(self.poison(m.span()));
        }
        let Source { kind, elem } = self.source(source_expr)?;
        // `Iterator::sum` for floats starts from -0.0 (so that a sum of -0.0 is -0.0).
        let init = self
            .b
            .float(if product { 1.0 } else { -0.0 }, FloatTy::Lit, m.span());
        let acc = self.b.f.add_var(
            if product { "product" } else { "sum" },
            Ty::Float(FloatTy::Lit),
            VarKind::Local,
        );
        self.b.push(Stmt::Decl(acc, Some(init)));
        let span = m.span();
        self.run_loop(None, kind, true, None, span, |l, index| {
            let value = match closure {
                Some(c) => {
                    l.scopes.push(Vec::new());
                    l.bind_pattern(&c.inputs[0], &elem, index);
                    let value = l.value_or_diverge(&c.body);
                    l.scopes.pop();
                    value
                }
                None => l.elem_value(&elem, index, span),
            };
            let Some(value) = value else {
                return;
            };
            let ty = l.b.f.node(value).ty;
            l.b.f.vars[acc.index()].ty = ty;
            if product {
                let old = l.read_var(acc, span);
                let new = l.b.add(Op::Mul, vec![old, value], ty, span);
                l.b.push(Stmt::Assign(acc, AssignOp::Set, new));
            } else {
                l.b.push(Stmt::Assign(acc, AssignOp::Add, value));
            }
        });
        Some(self.read_var(acc, span))
    }
}

/// Whether a method call is a fold this module lowers (`….sum()`, `….product()`).
pub(super) fn is_fold(m: &syn::ExprMethodCall) -> bool {
    (m.method == "sum" || m.method == "product") && m.args.is_empty()
}
