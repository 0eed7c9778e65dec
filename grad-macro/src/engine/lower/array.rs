//! Lowering arrays: literals, `[v; N]`, `vec![v; n]`, indexing, `&a`, and stores.

use super::{Lowerer, Slot, syntax};
use crate::engine::ir::{AssignOp, NodeId, Op, Stmt, Store, Ty, VarId};
use quote::ToTokens;
use syn::spanned::Spanned;

impl Lowerer<'_> {
    /// `[a, b, c]`
    pub(super) fn array_literal(&mut self, a: &syn::ExprArray) -> Option<NodeId> {
        let mut elems = Vec::new();
        for e in &a.elems {
            elems.push(self.value_or_diverge(e)?);
        }
        let ty = elems
            .iter()
            .map(|&e| self.b.f.node(e).ty)
            .fold(Ty::Unknown, Ty::unify)
            .array_of();
        Some(self.b.add(Op::ArrayLit, elems, ty, a.span()))
    }

    /// `[v; N]`
    pub(super) fn repeat(&mut self, r: &syn::ExprRepeat) -> Option<NodeId> {
        let value = self.value_or_diverge(&r.expr)?;
        let ty = self.b.f.node(value).ty.array_of();
        let len = self.b.f.intern(r.len.to_token_stream());
        Some(self.b.add(Op::Repeat(len), vec![value], ty, r.span()))
    }

    /// `vec![v; n]`
    pub(super) fn vec_macro(&mut self, m: &syn::ExprMacro) -> Option<NodeId> {
        let parsed = m.mac.parse_body_with(|input: syn::parse::ParseStream| {
            let value: syn::Expr = input.parse()?;
            input.parse::<syn::Token![;]>()?;
            let len: syn::Expr = input.parse()?;
            Ok((value, len))
        });
        let Ok((value, len)) = parsed else {
            self.errors.spanned(
                m,
                "only `vec![value; length]` is supported; write a list of values as an array \
                 `[a, b, c]`",
            );
            return Some(self.poison(m.span()));
        };
        let value = self.value_or_diverge(&value)?;
        let len = self.value_or_diverge(&len)?;
        let ty = self.b.f.node(value).ty.array_of();
        Some(self.b.add(Op::VecRepeat, vec![value, len], ty, m.span()))
    }

    /// `a[i]`: an element, or a row of a 2-D array.
    pub(super) fn index(&mut self, e: &syn::ExprIndex) -> Option<NodeId> {
        if let syn::Expr::Range(_) = &*e.index {
            self.errors.spanned(
                &e.index,
                "slicing (`a[i..j]`) is not supported; index single elements in a loop",
            );
            return Some(self.poison(e.span()));
        }
        let base = self.value_or_diverge(&e.expr)?;
        let index = self.value_or_diverge(&e.index)?;
        // Indexed, a call's result is an array (`polar(r, theta)[0]`).
        self.as_array(base);
        let ty = self.b.f.node(base).ty.element();
        Some(self.b.add(Op::Index, vec![base, index], ty, e.span()))
    }

    /// `&a`, to pass an array to a call.
    pub(super) fn reference(&mut self, r: &syn::ExprReference) -> Option<NodeId> {
        if r.mutability.is_some() {
            self.errors.spanned(
                r,
                "`&mut` is not supported in a `#[derive_grad]` function: functions it calls \
                 must be pure",
            );
            return Some(self.poison(r.span()));
        }
        let value = self.value_or_diverge(&r.expr)?;
        let ty = self.b.f.node(value).ty;
        if ty.is_float() {
            // `&x` of a float is the float as far as derivatives go.
            return Some(value);
        }
        // An array, or what the macro cannot see (`&W` of a constant, `&n` of an integer),
        // stays a reference.
        Some(self.b.add(Op::Ref, vec![value], ty, r.span()))
    }

    /// `a[i] = e`, `a[i][j] op= e`.
    pub(super) fn store(
        &mut self,
        target: &syn::Expr,
        op: Option<Op>,
        value: &syn::Expr,
        whole: &syn::Expr,
    ) {
        let Some((var, path)) = self.element_place(target) else {
            return;
        };
        let Some(rhs) = self.value_or_diverge(value) else {
            return;
        };
        let (op, value) = match op {
            None => (AssignOp::Set, rhs),
            Some(Op::Add) => (AssignOp::Add, rhs),
            Some(op) => {
                let old = self.element(var, &path, target.span());
                let ty = self.b.f.node(old).ty.unify(self.b.f.node(rhs).ty);
                (
                    AssignOp::Set,
                    self.b.add(op, vec![old, rhs], ty, whole.span()),
                )
            }
        };
        self.b.push(Stmt::Store(Store {
            var,
            path,
            op,
            value,
        }));
    }

    /// The array variable and the indices of `a[i][j]` as an assignment target.
    fn element_place(&mut self, target: &syn::Expr) -> Option<(VarId, Vec<NodeId>)> {
        let mut indices = Vec::new();
        let mut root = target;
        while let syn::Expr::Index(i) = root {
            indices.push(&*i.index);
            root = &i.expr;
        }
        let binding =
            syntax::plain_ident(root).and_then(|ident| self.lookup(&syntax::name_of(ident)));
        let Some(Slot::Var(var)) = binding.map(|b| b.slot) else {
            self.errors.spanned(
                target,
                "only elements of a local `let mut` array can be assigned to (`a[i] = …`)",
            );
            return None;
        };
        let mut path = Vec::new();
        for index in indices.into_iter().rev() {
            path.push(self.value_or_diverge(index)?);
        }
        Some((var, path))
    }

    /// The current value of `var[path…]`.
    pub(super) fn element(
        &mut self,
        var: VarId,
        path: &[NodeId],
        span: proc_macro2::Span,
    ) -> NodeId {
        let mut node = self.read_var(var, span);
        for &i in path {
            let ty = self.b.f.node(node).ty.element();
            node = self.b.add(Op::Index, vec![node, i], ty, span);
        }
        node
    }
}
