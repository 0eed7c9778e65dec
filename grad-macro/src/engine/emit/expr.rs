//! Printing one node as a Rust expression, with parentheses only where precedence needs them.

use super::Emitter;
use crate::engine::ir::{Bit, FloatTy, LitValue, NodeId, Op, Ty};
use proc_macro2::{Literal, TokenStream};
use quote::{quote, quote_spanned};

/// Rust's expression precedence, loosest first.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Prec {
    /// `if c { a } else { b }` used as a value.
    If,
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==` `<` …
    Cmp,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `&`
    BitAnd,
    /// `<<` `>>`
    Shift,
    /// `+` `-`
    Add,
    /// `*` `/` `%`
    Mul,
    /// `as`
    Cast,
    /// `-x` `!x`
    Unary,
    /// Names, literals, calls, method calls, parenthesised expressions.
    Atom,
}

impl Emitter<'_> {
    /// The expression for a node: its name when it is bound, else the node printed inline.
    pub fn expr(&self, n: NodeId) -> TokenStream {
        self.prec_expr(n).0
    }

    /// The expression, parenthesised unless it binds at least as tightly as `min`.
    pub fn operand(&self, n: NodeId, min: Prec) -> TokenStream {
        let (tokens, prec) = self.prec_expr(n);
        if prec >= min {
            tokens
        } else {
            quote!((#tokens))
        }
    }

    fn prec_expr(&self, n: NodeId) -> (TokenStream, Prec) {
        if !self.inline[n.index()] {
            let name = self.node_name(n);
            return (quote!(#name), Prec::Atom);
        }
        self.inline_expr(n)
    }

    pub(super) fn inline_expr(&self, n: NodeId) -> (TokenStream, Prec) {
        let node = self.f.node(n);
        let span = node.span;
        let arg = |i: usize| node.args[i];
        match node.op {
            Op::Param(_) | Op::Phi(_) | Op::LoopIndex(_) => {
                let name = self.node_name(n);
                (quote!(#name), Prec::Atom)
            }
            Op::Lit(lit) => self.literal(n, lit),
            Op::Const(sym) => (self.f.sym(sym).clone(), Prec::Atom),
            Op::Undef => (self.default_value(node.ty), Prec::Atom),
            Op::ReadVar(v) => {
                let name = self.names.of_var(v);
                (quote!(#name), Prec::Atom)
            }
            Op::Neg | Op::Not => {
                let a = self.operand(arg(0), Prec::Unary);
                // `- -x` would print as `--x`; keep the inner one in parentheses.
                let a = if self.prec_expr(arg(0)).1 == Prec::Unary {
                    let inner = self.prec_expr(arg(0)).0;
                    quote!((#inner))
                } else {
                    a
                };
                let tokens = if node.op == Op::Neg {
                    quote_spanned!(span=> -#a)
                } else {
                    quote_spanned!(span=> !#a)
                };
                (tokens, Prec::Unary)
            }
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::Rem
            | Op::Bit(_)
            | Op::Cmp(_)
            | Op::And
            | Op::Or => self.binary(n),
            Op::Math(m) => {
                let method = proc_macro2::Ident::new(m.name(), span);
                let rest: Vec<TokenStream> = node.args[1..].iter().map(|&a| self.expr(a)).collect();
                // On a receiver of no known precision that is not a lone literal (`0.47 + 0.3`,
                // an element of `[0.1, 0.2]`), the path form names the type Rust cannot infer.
                let receiver = self.f.node(arg(0));
                let untyped = matches!(receiver.ty, Ty::Float(FloatTy::Lit) | Ty::Unknown)
                    && !matches!(receiver.op, Op::Lit(_));
                if untyped && let Ty::Float(fty @ (FloatTy::F64 | FloatTy::F32)) = node.ty {
                    let ty = primitive(fty);
                    let receiver = self.expr(arg(0));
                    return (
                        quote_spanned!(span=> #ty::#method(#receiver, #(#rest),*)),
                        Prec::Atom,
                    );
                }
                let receiver = self.typed_receiver(arg(0), node.ty.float_ty());
                (
                    quote_spanned!(span=> #receiver.#method(#(#rest),*)),
                    Prec::Atom,
                )
            }
            Op::Method(sym) => {
                let receiver = self.receiver(arg(0));
                let method = self.f.sym(sym);
                let rest: Vec<TokenStream> = node.args[1..].iter().map(|&a| self.expr(a)).collect();
                (
                    quote_spanned!(span=> #receiver.#method(#(#rest),*)),
                    Prec::Atom,
                )
            }
            Op::Field(sym) => {
                let base = self.receiver(arg(0));
                let member = self.f.sym(sym);
                (quote_spanned!(span=> #base.#member), Prec::Atom)
            }
            // `n as T` is not Rust for a generic float: the exponent of `powi` is an `i32`.
            Op::Cast(_) if matches!(node.ty, Ty::Float(FloatTy::Generic(_))) => {
                let (krate, value) = (&self.krate, self.expr(arg(0)));
                let t = self.f.sym(crate::engine::ir::GENERIC_FLOAT);
                (
                    quote_spanned!(span=> <#t as #krate::Real>::from_i32(#value)),
                    Prec::Atom,
                )
            }
            Op::Cast(sym) => {
                let value = self.operand(arg(0), Prec::Cast);
                let ty = self.f.sym(sym);
                (quote_spanned!(span=> #value as #ty), Prec::Cast)
            }
            Op::Call(sym) | Op::ConstCall(sym) => {
                let path = self.f.sym(sym);
                let args: Vec<TokenStream> = node.args.iter().map(|&a| self.expr(a)).collect();
                (quote_spanned!(span=> #path(#(#args),*)), Prec::Atom)
            }
            Op::Jvp(sym) => {
                let path = self.suffixed(sym, "_jvp", span);
                let args: Vec<TokenStream> = node.args.iter().map(|&a| self.expr(a)).collect();
                (quote_spanned!(span=> #path(#(#args),*)), Prec::Atom)
            }
            Op::NoGrad => {
                let krate = &self.krate;
                // Typed like a receiver: `no_grad(0.5_f64).cos()` must know its float type.
                let value = self.typed_receiver(arg(0), node.ty.float_ty());
                (quote_spanned!(span=> #krate::no_grad(#value)), Prec::Atom)
            }
            Op::Select => (self.select(n), Prec::If),
            Op::Index => {
                let base = self.receiver(arg(0));
                let index = self.expr(arg(1));
                (quote_spanned!(span=> #base[#index]), Prec::Atom)
            }
            // `f64::is_nan(p)`, not `p.is_nan()`: a product of untyped rule literals
            // (`{ 1.0 } else { 0.0 }` times a literal tangent) is a `{float}` that Rust calls
            // no method on.
            Op::IsNan => {
                let tokens = if let Ty::Float(fty @ (FloatTy::F64 | FloatTy::F32)) =
                    self.f.node(arg(0)).ty
                {
                    let value = self.expr(arg(0));
                    let ty = primitive(fty);
                    quote_spanned!(span=> #ty::is_nan(#value))
                } else {
                    let receiver = self.receiver(arg(0));
                    quote_spanned!(span=> #receiver.is_nan())
                };
                (tokens, Prec::Atom)
            }
            Op::Len => {
                let base = self.receiver(arg(0));
                (quote_spanned!(span=> #base.len()), Prec::Atom)
            }
            Op::ArrayLit => {
                let elems = node.args.iter().map(|&a| self.expr(a));
                (quote_spanned!(span=> [#(#elems),*]), Prec::Atom)
            }
            Op::Repeat(len) => {
                let value = self.expr(arg(0));
                let len = self.f.sym(len);
                (quote_spanned!(span=> [#value; #len]), Prec::Atom)
            }
            Op::VecRepeat => {
                let (value, len) = (self.expr(arg(0)), self.expr(arg(1)));
                (quote_spanned!(span=> ::std::vec![#value; #len]), Prec::Atom)
            }
            Op::Copy => {
                let value = self.operand(arg(0), Prec::Atom);
                (quote_spanned!(span=> #value.clone()), Prec::Atom)
            }
            Op::Ref => {
                let value = self.operand(arg(0), Prec::Unary);
                (quote_spanned!(span=> &#value), Prec::Unary)
            }
            Op::Zeros => {
                let (krate, value) = (&self.krate, self.expr(arg(0)));
                (
                    quote_spanned!(span=> #krate::zeros_like(&#value)),
                    Prec::Atom,
                )
            }
            Op::SumAll => {
                let (krate, value) = (&self.krate, self.expr(arg(0)));
                (quote_spanned!(span=> #krate::sum_all(&#value)), Prec::Atom)
            }
            Op::Pop(tape) => {
                let tape = self.var_name(tape);
                (quote_spanned!(span=> #tape.pop()), Prec::Atom)
            }
        }
    }

    fn binary(&self, n: NodeId) -> (TokenStream, Prec) {
        let node = self.f.node(n);
        let (op, prec): (TokenStream, Prec) = match node.op {
            Op::Add => (quote!(+), Prec::Add),
            Op::Sub => (quote!(-), Prec::Add),
            Op::Mul => (quote!(*), Prec::Mul),
            Op::Div => (quote!(/), Prec::Mul),
            Op::Rem => (quote!(%), Prec::Mul),
            Op::And => (quote!(&&), Prec::And),
            Op::Or => (quote!(||), Prec::Or),
            Op::Cmp(c) => (c.symbol().parse().unwrap_or_default(), Prec::Cmp),
            Op::Bit(b) => (
                b.symbol().parse().unwrap_or_default(),
                match b {
                    Bit::And => Prec::BitAnd,
                    Bit::Or => Prec::BitOr,
                    Bit::Xor => Prec::BitXor,
                    Bit::Shl | Bit::Shr => Prec::Shift,
                },
            ),
            _ => (TokenStream::new(), Prec::Atom),
        };
        let (a, b) = (node.args[0], node.args[1]);
        // Comparisons do not chain; everything else associates to the left.
        let left_min = if prec == Prec::Cmp { Prec::BitOr } else { prec };
        let mut left = self.operand(a, left_min);
        // `x as f64 < y` parses `<` as the start of generic arguments.
        if matches!(node.op, Op::Cmp(_) | Op::Bit(Bit::Shl)) && self.prec_expr(a).1 == Prec::Cast {
            let inner = self.prec_expr(a).0;
            left = quote!((#inner));
        }
        let right = self.operand(b, next(prec));
        let span = node.span;
        (quote_spanned!(span=> #left #op #right), prec)
    }

    /// `if c { a } else if d { b } else { e }` for a select (and a chain of them).
    fn select(&self, n: NodeId) -> TokenStream {
        let node = self.f.node(n);
        let cond = self.expr(node.args[0]);
        let yes = self.expr(node.args[1]);
        let no_id = node.args[2];
        let no_node = self.f.node(no_id);
        let span = node.span;
        if no_node.op == Op::Select && self.inline[no_id.index()] {
            let rest = self.select(no_id);
            quote_spanned!(span=> if #cond { #yes } else #rest)
        } else {
            let no = self.expr(no_id);
            quote_spanned!(span=> if #cond { #yes } else { #no })
        }
    }

    /// A method receiver: an atom, and an unsuffixed float literal of known type gets its
    /// suffix (`2.0_f64.sqrt()`), since Rust cannot infer it there.
    fn receiver(&self, n: NodeId) -> TokenStream {
        self.typed_receiver(n, None)
    }

    /// A receiver whose float type, where the literal itself does not say, is `hint` (the
    /// type of the method's result: `f64::cos(0.5)` is `0.5_f64.cos()`).
    fn typed_receiver(&self, n: NodeId, hint: Option<FloatTy>) -> TokenStream {
        let node = self.f.node(n);
        if node.op == Op::NoGrad && self.inline[n.index()] {
            let (krate, span) = (&self.krate, node.span);
            let value = self.typed_receiver(node.args[0], hint);
            return quote_spanned!(span=> #krate::no_grad(#value));
        }
        if let (Op::Lit(lit), Ty::Float(fty)) = (node.op, node.ty)
            && let LitValue::Float(v) = self.f.lit(lit).value
            && self.inline[n.index()]
        {
            let fty = match (fty, hint) {
                (FloatTy::Lit, Some(h)) => h,
                (own, _) => own,
            };
            // An overflowing literal (`1e400_f64`, `1e39` as an `f32`) is printed as written:
            // `Literal` takes finite values only.
            let suffixed = match fty {
                FloatTy::F32 if (v as f32).is_finite() => Some(Literal::f32_suffixed(v as f32)),
                FloatTy::F64 if v.is_finite() => Some(Literal::f64_suffixed(v)),
                _ => None,
            };
            if let Some(mut lit) = suffixed {
                lit.set_span(node.span);
                // `(-0.5_f64).abs()`: the sign belongs to the receiver.
                return if v.is_sign_negative() {
                    quote!((#lit))
                } else {
                    quote!(#lit)
                };
            }
        }
        self.operand(n, Prec::Atom)
    }

    fn literal(&self, n: NodeId, lit: crate::engine::ir::LitId) -> (TokenStream, Prec) {
        let node = self.f.node(n);
        let lit = self.f.lit(lit);
        if let Some(tokens) = &lit.tokens {
            let text = tokens.to_string();
            let negative = text.starts_with('-');
            let prec = if negative { Prec::Unary } else { Prec::Atom };
            // `let mid: f64 = 0.5;` makes `0.5` an `f64` wherever it is printed.
            if let (LitValue::Float(_), Ty::Float(fty @ (FloatTy::F64 | FloatTy::F32))) =
                (lit.value, node.ty)
                && !text.contains("f64")
                && !text.contains("f32")
            {
                let magnitude = text.trim_start_matches('-').trim();
                let zero = if magnitude.ends_with('.') { "0" } else { "" };
                let suffix = if fty == FloatTy::F32 { "f32" } else { "f64" };
                if let Ok(mut typed) = format!("{magnitude}{zero}_{suffix}").parse::<Literal>() {
                    typed.set_span(node.span);
                    return if negative {
                        (quote!(-#typed), prec)
                    } else {
                        (quote!(#typed), prec)
                    };
                }
            }
            return (tokens.clone(), prec);
        }
        let tokens = match lit.value {
            LitValue::Bool(true) => quote!(true),
            LitValue::Bool(false) => quote!(false),
            LitValue::Int(v) => {
                let magnitude = Literal::u128_unsuffixed(v.unsigned_abs());
                if v < 0 {
                    return (quote!(-#magnitude), Prec::Unary);
                }
                quote!(#magnitude)
            }
            LitValue::Float(v) => return self.float(v, node.ty),
        };
        (tokens, Prec::Atom)
    }

    /// A float made by a transform, in the precision of its type.
    fn float(&self, v: f64, ty: Ty) -> (TokenStream, Prec) {
        let fty = match ty {
            Ty::Float(t) => t,
            _ => FloatTy::Lit,
        };
        // Finite as an `f64` may be infinite as an `f32`.
        let finite = if fty == FloatTy::F32 {
            (v as f32).is_finite()
        } else {
            v.is_finite()
        };
        if !finite {
            let t = primitive(fty);
            let name = if v.is_nan() {
                quote!(NAN)
            } else if v > 0.0 {
                quote!(INFINITY)
            } else {
                quote!(NEG_INFINITY)
            };
            return (quote!(::core::#t::#name), Prec::Atom);
        }
        let magnitude = match fty {
            FloatTy::F32 => Literal::f32_unsuffixed(v.abs() as f32),
            FloatTy::Generic(_) => {
                let krate = &self.krate;
                let t = self.f.sym(match fty {
                    FloatTy::Generic(s) => s,
                    _ => return (TokenStream::new(), Prec::Atom),
                });
                let value = Literal::f64_unsuffixed(v);
                let tokens = if v == 0.0 && v.is_sign_positive() {
                    quote!(<#t as #krate::Real>::zero())
                } else if v == 1.0 {
                    quote!(<#t as #krate::Real>::one())
                } else {
                    quote!(<#t as #krate::Real>::from_f64(#value))
                };
                return (tokens, Prec::Atom);
            }
            FloatTy::F64 | FloatTy::Lit => Literal::f64_unsuffixed(v.abs()),
        };
        if v.is_sign_negative() {
            (quote!(-#magnitude), Prec::Unary)
        } else {
            (quote!(#magnitude), Prec::Atom)
        }
    }

    /// A value of type `ty` that is never read (declarations, unused arm values).
    pub fn default_value(&self, ty: Ty) -> TokenStream {
        match ty {
            Ty::Float(FloatTy::Generic(s)) => {
                let (krate, t) = (&self.krate, self.f.sym(s));
                quote!(<#t as #krate::Real>::zero())
            }
            Ty::Float(_) => quote!(0.0),
            Ty::Int => quote!(0),
            Ty::Bool => quote!(false),
            Ty::Unknown | Ty::Other | Ty::Array(..) => {
                quote!(::core::default::Default::default())
            }
        }
    }
}

/// The precedence a right operand needs: one step tighter (left associativity).
fn next(prec: Prec) -> Prec {
    match prec {
        Prec::If => Prec::Or,
        Prec::Or => Prec::And,
        Prec::And => Prec::Cmp,
        Prec::Cmp => Prec::BitOr,
        Prec::BitOr => Prec::BitXor,
        Prec::BitXor => Prec::BitAnd,
        Prec::BitAnd => Prec::Shift,
        Prec::Shift => Prec::Add,
        Prec::Add => Prec::Mul,
        Prec::Mul => Prec::Cast,
        Prec::Cast => Prec::Unary,
        Prec::Unary | Prec::Atom => Prec::Atom,
    }
}

/// The primitive type of a concrete precision (`f64` for anything but `f32`).
fn primitive(fty: FloatTy) -> TokenStream {
    if fty == FloatTy::F32 {
        quote!(f32)
    } else {
        quote!(f64)
    }
}
