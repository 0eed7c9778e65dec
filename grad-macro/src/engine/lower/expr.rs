//! Lowering value expressions.

use super::{Lowerer, Tail};
use crate::engine::ir::{Bit, Cmp, FloatTy, LitValue, NodeId, Op, Stmt, Ty};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{BinOp, Expr, UnOp};

impl Lowerer<'_> {
    /// The value of `e`, or `None` when evaluating it returns from the function. Constructs
    /// outside the subset are reported and give a placeholder, so lowering goes on.
    pub(super) fn value_or_diverge(&mut self, e: &Expr) -> Option<NodeId> {
        match e {
            Expr::Lit(lit) => Some(self.literal(&lit.lit)),
            Expr::Path(path) => Some(self.path(path)),
            Expr::Paren(p) => self.value_or_diverge(&p.expr),
            Expr::Group(g) => self.value_or_diverge(&g.expr),
            Expr::Unary(u) => self.unary(u),
            Expr::Binary(b) => self.binary(b, e),
            Expr::Cast(c) => self.cast(c),
            Expr::MethodCall(m) => self.method_call(m),
            Expr::Call(c) => self.call(c),
            Expr::Field(f) => self.field(f),
            Expr::If(_) | Expr::Match(_) => self.branch_expr(e, None, Tail::Value),
            Expr::Block(b) if b.label.is_none() => self.block_stmts(&b.block, Tail::Value),
            Expr::Array(a) => self.array_literal(a),
            Expr::Repeat(r) => self.repeat(r),
            Expr::Index(i) => self.index(i),
            Expr::Reference(r) => self.reference(r),
            Expr::ForLoop(f) => self.for_loop(f),
            Expr::While(w) => self.while_loop(w),
            Expr::Loop(l) => self.infinite_loop(l),
            Expr::Break(b) => self.break_expr(b),
            Expr::Continue(c) => self.continue_expr(c),
            Expr::Macro(m) if m.mac.path.is_ident("vec") => self.vec_macro(m),
            Expr::Return(r) => {
                match &r.expr {
                    Some(value) => {
                        if let Some(v) = self.value_or_diverge(value) {
                            self.do_return(v);
                        }
                    }
                    None => self
                        .errors
                        .spanned(r, "`return` needs a value: the function returns a float"),
                }
                None
            }
            other => {
                self.errors.spanned(other, unsupported(other));
                Some(self.poison(other.span()))
            }
        }
    }

    fn literal(&mut self, lit: &syn::Lit) -> NodeId {
        let span = lit.span();
        let tokens = lit.to_token_stream();
        let float = |suffix: &str| match suffix {
            "f64" => Some(FloatTy::F64),
            "f32" => Some(FloatTy::F32),
            _ => None,
        };
        let (value, ty) = match lit {
            syn::Lit::Float(f) => {
                let fty = float(f.suffix()).unwrap_or(FloatTy::Lit);
                let value = if fty == FloatTy::F32 {
                    f.base10_parse::<f32>().map(f64::from)
                } else {
                    f.base10_parse::<f64>()
                };
                match value {
                    Ok(v) => (LitValue::Float(v), Ty::Float(fty)),
                    Err(_) => return self.constant(tokens, Ty::Float(fty), span),
                }
            }
            syn::Lit::Int(i) => match float(i.suffix()) {
                Some(fty) => match i.base10_parse::<f64>() {
                    Ok(v) => (LitValue::Float(v), Ty::Float(fty)),
                    Err(_) => return self.constant(tokens, Ty::Float(fty), span),
                },
                None => match i.base10_parse::<i128>() {
                    Ok(v) => (LitValue::Int(v), Ty::Int),
                    Err(_) => return self.constant(tokens, Ty::Int, span),
                },
            },
            syn::Lit::Bool(b) => (LitValue::Bool(b.value), Ty::Bool),
            // Characters, strings, bytes: never floats.
            _ => return self.constant(tokens, Ty::Other, span),
        };
        self.b.user_literal(value, tokens, ty, span)
    }

    fn constant(
        &mut self,
        tokens: proc_macro2::TokenStream,
        ty: Ty,
        span: proc_macro2::Span,
    ) -> NodeId {
        let sym = self.b.f.intern(tokens);
        self.b.leaf(Op::Const(sym), ty, span)
    }

    /// A local variable, a parameter, or a constant path (`PI`, `f64::EPSILON`).
    fn path(&mut self, path: &syn::ExprPath) -> NodeId {
        if path.qself.is_none()
            && let Some(ident) = path.path.get_ident()
            && let Some(value) = self.read(&super::syntax::name_of(ident), path.span())
        {
            return value;
        }
        if path.qself.is_none() && path.path.is_ident("None") {
            return self.constant(path.to_token_stream(), Ty::Other, path.span());
        }
        // Constants are typed by the scalar type they hang off, if any (`f64::consts::PI`).
        let ty = path
            .path
            .segments
            .iter()
            .find_map(|s| crate::engine::signature::scalar_named(&s.ident.to_string()))
            .unwrap_or(Ty::Unknown);
        self.constant(path.to_token_stream(), ty, path.span())
    }

    fn unary(&mut self, u: &syn::ExprUnary) -> Option<NodeId> {
        // `-2.0` is a literal, as the user reads it (negating a literal is exact).
        if let (UnOp::Neg(_), Expr::Lit(lit)) = (&u.op, &*u.expr) {
            let id = self.literal(&lit.lit);
            let node = self.b.f.node(id);
            if let Op::Lit(l) = node.op {
                let ty = node.ty;
                let value = match self.b.f.lit(l).value {
                    LitValue::Float(v) => Some(LitValue::Float(-v)),
                    LitValue::Int(v) => v.checked_neg().map(LitValue::Int),
                    LitValue::Bool(_) => None,
                };
                if let Some(value) = value {
                    return Some(
                        self.b
                            .user_literal(value, u.to_token_stream(), ty, u.span()),
                    );
                }
            }
        }
        let arg = self.value_or_diverge(&u.expr)?;
        let ty = self.b.f.node(arg).ty;
        let op = match u.op {
            UnOp::Neg(_) => Op::Neg,
            UnOp::Not(_) => Op::Not,
            // `*a` of a reference to an array: a copy of it.
            UnOp::Deref(_) if ty.is_array() => {
                return Some(self.b.add(Op::Copy, vec![arg], ty, u.span()));
            }
            // `*r` for a reference to inactive data: the value itself.
            UnOp::Deref(_) => return Some(arg),
            _ => {
                self.errors
                    .spanned(u, "this unary operator is not supported");
                return Some(self.poison(u.span()));
            }
        };
        Some(self.b.add(op, vec![arg], ty, u.span()))
    }

    fn binary(&mut self, bin: &syn::ExprBinary, whole: &Expr) -> Option<NodeId> {
        let span = whole.span();
        if super::syntax::compound_op(&bin.op).is_some() {
            self.errors.spanned(
                whole,
                "an assignment cannot be used as a value; write it as a statement",
            );
            return Some(self.poison(span));
        }
        if let BinOp::And(_) | BinOp::Or(_) = bin.op {
            return Some(self.short_circuit(bin, span));
        }
        let a = self.value_or_diverge(&bin.left)?;
        let b = self.value_or_diverge(&bin.right)?;
        let (ta, tb) = (self.b.f.node(a).ty, self.b.f.node(b).ty);
        let (op, ty) = match bin.op {
            BinOp::Add(_) => (Op::Add, ta.unify(tb)),
            BinOp::Sub(_) => (Op::Sub, ta.unify(tb)),
            BinOp::Mul(_) => (Op::Mul, ta.unify(tb)),
            BinOp::Div(_) => (Op::Div, ta.unify(tb)),
            BinOp::Rem(_) => (Op::Rem, ta.unify(tb)),
            BinOp::Lt(_) => (Op::Cmp(Cmp::Lt), Ty::Bool),
            BinOp::Le(_) => (Op::Cmp(Cmp::Le), Ty::Bool),
            BinOp::Gt(_) => (Op::Cmp(Cmp::Gt), Ty::Bool),
            BinOp::Ge(_) => (Op::Cmp(Cmp::Ge), Ty::Bool),
            BinOp::Eq(_) => (Op::Cmp(Cmp::Eq), Ty::Bool),
            BinOp::Ne(_) => (Op::Cmp(Cmp::Ne), Ty::Bool),
            BinOp::BitAnd(_) => (Op::Bit(Bit::And), ta.unify(tb)),
            BinOp::BitOr(_) => (Op::Bit(Bit::Or), ta.unify(tb)),
            BinOp::BitXor(_) => (Op::Bit(Bit::Xor), ta.unify(tb)),
            BinOp::Shl(_) => (Op::Bit(Bit::Shl), ta),
            BinOp::Shr(_) => (Op::Bit(Bit::Shr), ta),
            _ => {
                self.errors.spanned(whole, "this operator is not supported");
                return Some(self.poison(span));
            }
        };
        if matches!(op, Op::Bit(_)) && (ta.is_float() || tb.is_float()) {
            self.errors
                .spanned(whole, "bit operators do not apply to floats");
        }
        Some(self.b.add(op, vec![a, b], ty, span))
    }

    /// `a && b`, `a || b`: `b` is built without let-bindings of its own, so it is printed
    /// inside the operator and keeps its short-circuit evaluation.
    fn short_circuit(&mut self, bin: &syn::ExprBinary, span: proc_macro2::Span) -> NodeId {
        let a = self.condition(&bin.left);
        self.b.open();
        let b = self.condition(&bin.right);
        let block = self.b.close();
        if block.stmts.iter().any(|s| !matches!(s, Stmt::Let(_))) {
            self.errors.spanned(
                &bin.right,
                "the right side of `&&`/`||` must be a plain expression; bind branches and \
                 statements to a variable first",
            );
        }
        let op = if matches!(bin.op, BinOp::And(_)) {
            Op::And
        } else {
            Op::Or
        };
        self.b.add(op, vec![a, b], Ty::Bool, span)
    }

    fn field(&mut self, f: &syn::ExprField) -> Option<NodeId> {
        let base = self.value_or_diverge(&f.base)?;
        if self.b.f.node(base).ty.is_float() {
            self.errors.spanned(f, "floats have no fields");
            return Some(self.poison(f.span()));
        }
        let member = self.b.f.intern(f.member.to_token_stream());
        Some(
            self.b
                .add(Op::Field(member), vec![base], Ty::Unknown, f.span()),
        )
    }
}

/// The error for an expression outside the subset: what it is and what to do instead.
fn unsupported(e: &Expr) -> String {
    let what = match e {
        Expr::Closure(_) => {
            return "closures are not supported in a `#[derive_grad]` function; write the \
                    computation inline, or as a separate function with its own \
                    `#[derive_grad]`"
                .into();
        }
        Expr::Unsafe(_) => {
            return "`unsafe` blocks are not supported in a `#[derive_grad]` function".into();
        }
        Expr::Async(_) | Expr::Await(_) => {
            return "`async` code cannot be differentiated; `#[derive_grad]` supports plain \
                    numeric code"
                .into();
        }
        Expr::Macro(m) => {
            let name = m
                .mac
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            return format!(
                "macro `{name}!` is not supported in an expression; only `assert!`, \
                 `debug_assert!`, `println!` and `eprintln!` statements are allowed in a \
                 `#[derive_grad]` function"
            );
        }
        Expr::Range(_) => "a range outside a `for` loop is",
        Expr::RawAddr(_) => "raw pointers are",
        Expr::Tuple(_) => "tuples are",
        Expr::Struct(_) => "struct literals are",
        Expr::Try(_) | Expr::TryBlock(_) => "the `?` operator is",
        Expr::Assign(_) => {
            return "an assignment cannot be used as a value; write it as a statement".into();
        }
        Expr::Let(_) => "`let` in expression position is",
        Expr::Block(_) => "labelled blocks are",
        _ => "this expression is",
    };
    format!(
        "{what} not supported in a `#[derive_grad]` function; supported: arithmetic, float \
         methods, calls, `let`, `if`/`else`, `match` on integers, arrays and loops"
    )
}
