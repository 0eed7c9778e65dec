//! Lowering method calls, function calls and casts.

use super::Lowerer;
use crate::engine::ir::{FloatTy, GENERIC_FLOAT, Math, NodeId, Op, Ty};
use crate::engine::signature::{scalar_named, scalar_ty};
use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;

/// `f64`'s methods that answer a question about the value (`x.is_nan()`).
const FLOAT_PREDICATES: &[&str] = &[
    "is_nan",
    "is_finite",
    "is_infinite",
    "is_normal",
    "is_subnormal",
    "is_sign_positive",
    "is_sign_negative",
];

impl Lowerer<'_> {
    pub(super) fn method_call(&mut self, m: &syn::ExprMethodCall) -> Option<NodeId> {
        if super::loops::is_fold(m) {
            return self.iter_fold(m);
        }
        let receiver = self.value_or_diverge(&m.receiver)?;
        let mut args = vec![receiver];
        for arg in &m.args {
            args.push(self.value_or_diverge(arg)?);
        }
        let name = m.method.to_string();
        let receiver_ty = self.b.f.node(receiver).ty;
        let any_float = args.iter().any(|&a| self.b.f.node(a).ty.float_shaped());
        if name == "len" && args.len() == 1 {
            return Some(self.b.add(Op::Len, args, Ty::Int, m.span()));
        }
        // `a.clone()` of an array: a copy, as `*a` is.
        if name == "clone" && args.len() == 1 && receiver_ty.is_array() {
            return Some(self.b.add(Op::Copy, args, receiver_ty, m.span()));
        }
        // A float's predicates decide branches; they carry no derivative.
        if receiver_ty.is_float() && args.len() == 1 && FLOAT_PREDICATES.contains(&name.as_str()) {
            return Some(self.opaque_method(m, args, Ty::Bool));
        }
        match Math::from_name(&name) {
            // `n.max(3)`, `n.abs()`: the integer method of the same name.
            Some(_) if matches!(receiver_ty, Ty::Int | Ty::Bool) => {
                Some(self.opaque_method(m, args, Ty::Int))
            }
            Some(math) if m.turbofish.is_none() => Some(self.math(math, args, m.span())),
            _ if !any_float => Some(self.opaque_method(m, args, Ty::Unknown)),
            _ if receiver_ty.is_array() => {
                self.errors.spanned(
                    &m.method,
                    format_args!(
                        "`.{name}()` on an array is not differentiable; supported: indexing, \
                         `.len()`, `for` loops, and `.iter().map(…).sum()`"
                    ),
                );
                Some(self.poison(m.span()))
            }
            _ => {
                let supported: Vec<&str> = Math::ALL.iter().map(|m| m.name()).collect();
                self.errors.spanned(
                    &m.method,
                    format_args!(
                        "`{name}` is not a differentiable float method; supported methods are \
                         `{}`",
                        supported.join("`, `")
                    ),
                );
                Some(self.poison(m.span()))
            }
        }
    }

    /// A method of the subset: checks the operand count, types the result.
    fn math(&mut self, math: Math, args: Vec<NodeId>, span: Span) -> NodeId {
        self.typed_math(math, args, None, span)
    }

    /// A float method; `of` is the type its path form names (`f64::cos(x)`), which decides
    /// the type of untyped literal operands.
    fn typed_math(&mut self, math: Math, args: Vec<NodeId>, of: Option<Ty>, span: Span) -> NodeId {
        if args.len() != math.arity() {
            let takes = math.arity() - 1;
            self.errors.at(
                span,
                format_args!(
                    "`{}` takes {takes} argument{}",
                    math.name(),
                    if takes == 1 { "" } else { "s" }
                ),
            );
            return self.poison(span);
        }
        let ty = args
            .iter()
            .enumerate()
            .filter(|&(i, _)| math.float_operand(i))
            .map(|(_, &a)| self.b.f.node(a).ty)
            .fold(Ty::Unknown, Ty::unify);
        // A float method on a value of unknown type (`PI.sin()`) is a float.
        let ty = match (ty, of) {
            (Ty::Unknown | Ty::Float(FloatTy::Lit), Some(named)) => named,
            (Ty::Unknown, None) => Ty::Float(FloatTy::Lit),
            (ty, _) => ty,
        };
        self.b.add(Op::Math(math), args, ty, span)
    }

    /// A method the macro does not differentiate, on inactive operands: a constant.
    fn opaque_method(&mut self, m: &syn::ExprMethodCall, args: Vec<NodeId>, ty: Ty) -> NodeId {
        let method = &m.method;
        let turbofish = &m.turbofish;
        let sym = self.b.f.intern(quote::quote!(#method #turbofish));
        self.b.add(Op::Method(sym), args, ty, m.span())
    }

    pub(super) fn call(&mut self, c: &syn::ExprCall) -> Option<NodeId> {
        let syn::Expr::Path(func) = &*c.func else {
            self.errors.spanned(
                &c.func,
                "only calls of functions by path are supported (`g(x)`, `module::g(x)`)",
            );
            return Some(self.poison(c.span()));
        };
        let mut args = Vec::new();
        for arg in &c.args {
            args.push(self.value_or_diverge(arg)?);
        }
        let segments: Vec<String> = func
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let last = segments.last().map_or("", String::as_str);
        // `f64::sin(x)`: the method form.
        if func.qself.is_none()
            && segments.len() == 2
            && let Some(named @ Ty::Float(_)) = scalar_named(&segments[0])
            && let Some(math) = Math::from_name(last)
        {
            return Some(self.typed_math(math, args, Some(named), c.span()));
        }
        // `f64::from(x)`: a conversion, differentiated as `x as f64` is.
        if func.qself.is_none()
            && segments.len() == 2
            && last == "from"
            && let Some(named @ Ty::Float(_)) = scalar_named(&segments[0])
            && let [value] = args[..]
        {
            let target = self
                .b
                .f
                .intern(func.path.segments[0].ident.to_token_stream());
            return Some(self.b.add(Op::Cast(target), vec![value], named, c.span()));
        }
        if func.qself.is_none()
            && segments.len() == 2
            && let Some(float) = &self.float
            && *float == segments[0]
        {
            return Some(self.generic_float_call(last, args, c));
        }
        if last == "no_grad" && func.qself.is_none() {
            if let [value] = args[..] {
                let ty = self.b.f.node(value).ty;
                return Some(self.b.add(Op::NoGrad, vec![value], ty, c.span()));
            }
            self.errors
                .spanned(c, "`no_grad` takes exactly one argument");
            return Some(self.poison(c.span()));
        }
        // `g(&x)` of a float, for a callee taking `&f64`: the reference is kept, so that every
        // generated call passes one (its derivative is the float's).
        for (arg, syntax) in args.iter_mut().zip(&c.args) {
            if let syn::Expr::Reference(r) = syntax
                && let ty @ Ty::Float(_) = self.b.f.node(*arg).ty
            {
                *arg = self.b.add(Op::Ref, vec![*arg], ty, r.span());
            }
        }
        // The result of a call with a float-shaped argument is taken to be a float of its type.
        let float_ty = args
            .iter()
            .find_map(|&a| self.b.f.node(a).ty.float_ty())
            .map(Ty::Float);
        let callee = self.b.f.intern(func.to_token_stream());
        Some(match float_ty {
            // Differentiated through `path_pullback` when an argument turns out active.
            Some(ty) => self.b.add(Op::Call(callee), args, ty, c.span()),
            None => self
                .b
                .add(Op::ConstCall(callee), args, Ty::Unknown, c.span()),
        })
    }

    /// `T::sin(x)` (a method in path form) or `T::from_f64(0.5)` (a constant) for the generic
    /// float type `T`.
    fn generic_float_call(&mut self, name: &str, args: Vec<NodeId>, c: &syn::ExprCall) -> NodeId {
        if let Some(math) = Math::from_name(name) {
            return self.math(math, args, c.span());
        }
        if matches!(name, "from_f64" | "from_i32" | "zero" | "one") {
            let callee = self.b.f.intern(c.func.to_token_stream());
            let ty = Ty::Float(FloatTy::Generic(GENERIC_FLOAT));
            return self.b.add(Op::ConstCall(callee), args, ty, c.span());
        }
        self.errors.spanned(
            &c.func,
            format_args!(
                "`{name}` is not a function of the float type; supported: `from_f64`, \
                 `from_i32`, `zero`, `one` and the float methods in path form (`T::sin(x)`)"
            ),
        );
        self.poison(c.span())
    }

    pub(super) fn cast(&mut self, c: &syn::ExprCast) -> Option<NodeId> {
        let value = self.value_or_diverge(&c.expr)?;
        let ty = scalar_ty(&c.ty).unwrap_or(Ty::Unknown);
        let target = self.b.f.intern(c.ty.to_token_stream());
        Some(self.b.add(Op::Cast(target), vec![value], ty, c.span()))
    }
}
