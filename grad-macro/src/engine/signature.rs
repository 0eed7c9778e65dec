//! The user's signature: which parameters carry gradients, and what the function returns.

use super::errors::Errors;
use super::ir::{Elem, FloatTy, GENERIC_FLOAT, Ty};
use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, Pat, ReturnType, Type};

/// How a parameter takes part in differentiation.
#[derive(Clone)]
pub enum ParamKind {
    /// A float: it gets a gradient.
    Float(FloatTy),
    /// An array, slice or `Vec` of floats (1-D or 2-D): its gradient has its shape.
    Array {
        /// The element type.
        elem: FloatTy,
        /// 1 or 2.
        rank: u8,
        /// The gradient's type in `_grad` (`[f64; N]`, `Vec<f64>`, …).
        grad: Box<Type>,
        /// The buffer's type in `_pullback` (`&mut [f64; N]`, `&mut [f64]`, …).
        buffer: Box<Type>,
        /// The tangent's type in `_jvp` (`[f64; N]`, `&[f64]`, …).
        tangent: Box<Type>,
        /// The lengths, outermost first, when every one is fixed by the type (`[f64; N]`,
        /// `&[[f64; N]; M]`); `None` for slices and `Vec`s.
        dims: Option<Vec<syn::Expr>>,
        /// Its rows are `Vec`s (`&[Vec<f64>]`): read by reference, never copied.
        vec_rows: bool,
    },
    /// Integers, `bool`, `char`, strings, and arrays or options of them: a constant.
    Inactive(Ty),
    /// A type the macro cannot see into (a struct, a tuple, a vector type of another crate):
    /// a constant only where `wrt(...)` leaves it out, never silently.
    Opaque,
}

impl ParamKind {
    /// The type of the parameter's value in the IR.
    pub fn ty(&self) -> Ty {
        match self {
            ParamKind::Float(f) => Ty::Float(*f),
            ParamKind::Array { elem, rank, .. } => Ty::Array(Elem::Float(*elem), *rank),
            ParamKind::Inactive(t) => *t,
            ParamKind::Opaque => Ty::Other,
        }
    }

    /// Whether the parameter has a gradient.
    pub fn differentiable(&self) -> bool {
        matches!(self, ParamKind::Float(_) | ParamKind::Array { .. })
    }

    /// The gradient's type in `_grad`.
    pub fn grad_type(&self, ty: &Type) -> Type {
        match self {
            ParamKind::Array { grad, .. } => (**grad).clone(),
            _ => referent(ty).clone(),
        }
    }

    /// The tangent's type in `_jvp`.
    pub fn tangent_type(&self, ty: &Type) -> Type {
        match self {
            ParamKind::Array { tangent, .. } => (**tangent).clone(),
            _ => referent(ty).clone(),
        }
    }

    /// The buffer's type in `_pullback`.
    pub fn buffer_type(&self, ty: &Type) -> Type {
        match self {
            ParamKind::Array { buffer, .. } => (**buffer).clone(),
            _ => mutable_ref(referent(ty)),
        }
    }
}

fn mutable_ref(ty: &Type) -> Type {
    syn::parse_quote!(&mut #ty)
}

/// `T` for `&T` (a float by reference has the float's gradient), else the type itself.
fn referent(ty: &Type) -> &Type {
    match ty {
        Type::Reference(r) => &r.elem,
        _ => ty,
    }
}

/// One parameter.
pub struct ParamInfo {
    /// Its name (`arg{i}` for a `_` pattern).
    pub ident: Ident,
    /// Its type as written.
    pub ty: Type,
    /// Float or inactive.
    pub kind: ParamKind,
    /// Declared `mut`: the body may reassign it.
    pub mutable: bool,
}

/// The parts of the signature the generated functions reuse.
pub struct Signature {
    /// The parameters, in order.
    pub params: Vec<ParamInfo>,
    /// The return type as written.
    pub ret_ty: Type,
    /// The float type returned (of each element, for `[f64; M]`).
    pub ret: FloatTy,
    /// `M` for a function returning `[f64; M]`; `None` for a scalar.
    pub outputs: Option<syn::Expr>,
    /// The function's name.
    pub name: Ident,
    /// The type parameter `T` of a function generic over its float type (`T: grad::Real`).
    pub float: Option<Ident>,
}

impl Signature {
    /// The type of the returned value in the IR.
    pub fn ret_kind(&self) -> Ty {
        match self.outputs {
            Some(_) => Ty::Array(Elem::Float(self.ret), 1),
            None => Ty::Float(self.ret),
        }
    }

    /// The columns of `f_jacobian`: the parameters flagged in `wrt`, flattened in declaration
    /// order, arrays row-major; and their number.
    ///
    /// # Errors
    ///
    /// An active parameter whose length is not in its type (a slice, a `Vec`), with a message.
    pub fn columns(&self, wrt: &[bool]) -> Result<(Vec<Column>, Offset), (TokenStream, String)> {
        let mut out = Vec::new();
        let mut offset = Offset::default();
        for (i, p) in self.params.iter().enumerate() {
            if !wrt.get(i).copied().unwrap_or(false) {
                continue;
            }
            let dims = match &p.kind {
                ParamKind::Float(_) => Vec::new(),
                ParamKind::Array { dims: Some(d), .. } => d.clone(),
                _ => {
                    return Err((
                        quote::ToTokens::to_token_stream(&p.ty),
                        format!(
                            "`{}_jacobian` needs the length of `{}` in its type (`[f64; N]` or \
                             `&[f64; N]`); exclude it with `wrt(...)` or use `_pullback`",
                            self.name, p.ident
                        ),
                    ));
                }
            };
            out.push(Column {
                param: i,
                offset: offset.clone(),
                dims: dims.clone(),
            });
            offset.add(&dims);
        }
        Ok((out, offset))
    }

    /// The float-shaped parameters (floats, float arrays), in declaration order.
    pub fn floats(&self) -> impl Iterator<Item = (usize, &ParamInfo)> {
        self.params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind.differentiable())
    }
}

/// The parameter behind a block of Jacobian columns.
pub struct Column {
    /// Its index among the parameters.
    pub param: usize,
    /// The index of its first column.
    pub offset: Offset,
    /// Its lengths, outermost first (none for a scalar).
    pub dims: Vec<syn::Expr>,
}

/// A count of columns: a number, plus lengths named by constants (`N`), summed.
#[derive(Clone, Default)]
pub struct Offset {
    /// The literal part.
    pub known: u64,
    /// The products of lengths that are not literals.
    pub named: Vec<TokenStream>,
}

impl Offset {
    /// Adds the size of an array with lengths `dims` (1 for a scalar).
    pub fn add(&mut self, dims: &[syn::Expr]) {
        let literal: Option<u64> = dims.iter().try_fold(1u64, |acc, d| {
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) = d
            else {
                return None;
            };
            Some(acc.saturating_mul(n.base10_parse::<u64>().ok()?))
        });
        if let Some(n) = literal {
            self.known = self.known.saturating_add(n);
        } else {
            let mut product = TokenStream::new();
            for (i, d) in dims.iter().enumerate() {
                if i > 0 {
                    product.extend(quote::quote!(*));
                }
                product.extend(quote::quote!(#d));
            }
            self.named.push(product);
        }
    }

    /// The count as an expression (`15`, `3 + N`).
    pub fn expr(&self) -> TokenStream {
        let known = proc_macro2::Literal::u64_unsuffixed(self.known);
        let named = &self.named;
        match (self.known, named.is_empty()) {
            (_, true) => quote::quote!(#known),
            (0, false) => quote::quote!(#(#named)+*),
            _ => quote::quote!(#known #(+ #named)*),
        }
    }
}

/// What a scalar type is, or `None` for types that are not scalars.
pub fn scalar_ty(ty: &Type) -> Option<Ty> {
    scalar_ty_in(ty, None)
}

/// What a scalar type is in a function whose generic float type, if any, is `float`.
pub fn scalar_ty_in(ty: &Type, float: Option<&Ident>) -> Option<Ty> {
    match ty {
        Type::Paren(inner) => scalar_ty_in(&inner.elem, float),
        Type::Group(inner) => scalar_ty_in(&inner.elem, float),
        Type::Path(path) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            if float == Some(ident) {
                return Some(Ty::Float(FloatTy::Generic(GENERIC_FLOAT)));
            }
            scalar_named(&ident.to_string())
        }
        _ => None,
    }
}

/// Whether `tokens` contain the identifier `name`, at any depth.
fn mentions(tokens: TokenStream, name: &Ident) -> bool {
    tokens.into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *name,
        proc_macro2::TokenTree::Group(g) => mentions(g.stream(), name),
        _ => false,
    })
}

/// The type parameter bounded by `Real` (`<T: grad::Real>` or `where T: Real`); every other
/// type parameter is refused, lifetimes and const parameters pass through.
fn generic_float(
    generics: &syn::Generics,
    refuse: &mut dyn FnMut(&dyn quote::ToTokens, &str),
) -> Option<Ident> {
    let is_real = |bounds: &syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
        bounds.iter().any(|b| {
            matches!(b, syn::TypeParamBound::Trait(t)
                if t.path.segments.last().is_some_and(|s| s.ident == "Real"))
        })
    };
    let mut float: Option<Ident> = None;
    for param in generics.type_params() {
        let bounded_in_where = generics.where_clause.iter().any(|w| {
            w.predicates.iter().any(|p| match p {
                syn::WherePredicate::Type(t) => {
                    matches!(&t.bounded_ty, Type::Path(b) if b.path.is_ident(&param.ident))
                        && is_real(&t.bounds)
                }
                _ => false,
            })
        });
        if !(is_real(&param.bounds) || bounded_in_where) {
            refuse(
                param,
                "a type parameter must be the float type, bounded by `grad::Real` \
                 (`fn f<T: grad::Real>(x: T) -> T`); other generics are not supported",
            );
        } else if float.is_some() {
            refuse(param, "only one generic float type is supported");
        } else {
            float = Some(param.ident.clone());
        }
    }
    float
}

/// The scalar type called `name` (`f64`, `usize`, …).
pub fn scalar_named(name: &str) -> Option<Ty> {
    match name {
        "f64" => Some(Ty::Float(FloatTy::F64)),
        "f32" => Some(Ty::Float(FloatTy::F32)),
        "bool" => Some(Ty::Bool),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64" | "u128"
        | "usize" => Some(Ty::Int),
        _ => None,
    }
}

/// Checks the signature against what `#[derive_grad]` supports; every problem goes to
/// `errors`. Returns `None` when the generated signatures cannot be written.
pub fn analyze(item: &syn::ItemFn, errors: &mut Errors) -> Option<Signature> {
    let sig = &item.sig;
    let mut ok = true;
    let mut refuse = |tokens: &dyn quote::ToTokens, message: &str| {
        errors.spanned(&tokens.to_token_stream(), message);
        ok = false;
    };
    if let Some(asyncness) = &sig.asyncness {
        refuse(
            asyncness,
            "`async fn` cannot be differentiated; `#[derive_grad]` supports plain `fn`",
        );
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        refuse(
            token,
            "`unsafe fn` is not supported by `#[derive_grad]`; it differentiates safe Rust",
        );
    }
    if let Some(abi) = &sig.abi {
        refuse(
            abi,
            "`extern` functions are not supported by `#[derive_grad]`",
        );
    }
    if let Some(variadic) = &sig.variadic {
        refuse(
            variadic,
            "variadic functions are not supported by `#[derive_grad]`",
        );
    }
    let float = generic_float(&sig.generics, &mut refuse);
    let float = float.as_ref();

    let mut params = Vec::new();
    for (i, arg) in sig.inputs.iter().enumerate() {
        match arg {
            FnArg::Receiver(receiver) => refuse(
                receiver,
                "methods with `self` are not supported; `#[derive_grad]` differentiates free \
                 functions and associated functions without a receiver",
            ),
            FnArg::Typed(typed) => {
                let (ident, mutable) = match &*typed.pat {
                    Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                        (p.ident.clone(), p.mutability.is_some())
                    }
                    Pat::Wild(w) => (Ident::new(&wild_name(sig, i), w.span()), false),
                    other => {
                        refuse(
                            other,
                            "only plain parameter names are supported (`x: f64`), not patterns",
                        );
                        continue;
                    }
                };
                let Some(kind) = param_kind(&typed.ty, float, &mut refuse) else {
                    continue;
                };
                params.push(ParamInfo {
                    ident,
                    ty: (*typed.ty).clone(),
                    kind,
                    mutable,
                });
            }
        }
    }

    let ret = match &sig.output {
        ReturnType::Type(_, ty) => {
            let (elem, outputs) = match &**ty {
                Type::Array(a) => (&*a.elem, Some(a.len.clone())),
                other => (other, None),
            };
            if let Some(Ty::Float(f)) = scalar_ty_in(elem, float) {
                if outputs.is_some() && float.is_some() {
                    refuse(
                        ty,
                        "arrays of a generic float are not supported yet; return `[f64; M]` or \
                         `[f32; M]`",
                    );
                }
                Some((f, (**ty).clone(), outputs))
            } else {
                refuse(
                    ty,
                    "`#[derive_grad]` needs a function returning a float (`f64` or `f32`) or an \
                     array of floats (`[f64; M]`)",
                );
                None
            }
        }
        ReturnType::Default => {
            refuse(
                &sig.ident,
                "`#[derive_grad]` needs a function returning a float (`-> f64` or `-> f32`)",
            );
            None
        }
    };
    let (ret, ret_ty, outputs) = ret?;
    if !ok {
        return None;
    }
    if !params.iter().any(|p| p.kind.differentiable()) {
        errors.spanned(
            &sig.inputs,
            "`#[derive_grad]` needs at least one float parameter (`f64` or `f32`) to differentiate",
        );
        return None;
    }
    Some(Signature {
        params,
        ret_ty,
        ret,
        outputs,
        name: sig.ident.clone(),
        float: float.cloned(),
    })
}

/// A name for the `_` parameter at position `i` that no other parameter has.
fn wild_name(sig: &syn::Signature, i: usize) -> String {
    let taken: Vec<String> = sig
        .inputs
        .iter()
        .filter_map(|arg| match arg {
            FnArg::Typed(t) => match &*t.pat {
                Pat::Ident(p) => Some(p.ident.to_string()),
                _ => None,
            },
            FnArg::Receiver(_) => None,
        })
        .collect();
    let mut name = format!("arg{i}");
    while taken.contains(&name) {
        name.push('_');
    }
    name
}

fn param_kind(
    ty: &Type,
    float: Option<&Ident>,
    refuse: &mut dyn FnMut(&dyn quote::ToTokens, &str),
) -> Option<ParamKind> {
    if let Some(float) = float
        && !matches!(ty, Type::Path(_))
        && mentions(ty.to_token_stream(), float)
    {
        refuse(
            ty,
            "arrays and references of a generic float are not supported yet; pass `T` by value, \
             or write the function for `f64` or `f32`",
        );
        return None;
    }
    if let Some(scalar) = scalar_ty_in(ty, float) {
        return Some(match scalar {
            Ty::Float(f) => ParamKind::Float(f),
            other => ParamKind::Inactive(other),
        });
    }
    match ty {
        Type::Reference(r) if r.mutability.is_some() => {
            refuse(
                ty,
                "`&mut` parameters are not supported: `#[derive_grad]` differentiates pure \
                 functions; return the value instead",
            );
            None
        }
        // `&f64`: the gradient, tangent and buffer are the float's.
        Type::Reference(r) if let Some(Ty::Float(f)) = scalar_ty(&r.elem) => {
            Some(ParamKind::Float(f))
        }
        Type::ImplTrait(_) => {
            refuse(
                ty,
                "`impl Trait` parameters are not supported by `#[derive_grad]`",
            );
            None
        }
        _ => match array_shape(ty) {
            Some(Shape::Floats(kind)) => Some(*kind),
            Some(Shape::Other(rank)) => Some(ParamKind::Inactive(Ty::Array(Elem::Other, rank))),
            None if constant_type(ty) => Some(ParamKind::Inactive(Ty::Other)),
            None => Some(ParamKind::Opaque),
        },
    }
}

/// Types that never hold a float, whatever they hold: integers, `bool`, `char`, strings,
/// `()`, and references, options, boxes, arrays, slices and `Vec`s of those.
fn constant_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => constant_type(&r.elem),
        Type::Paren(p) => constant_type(&p.elem),
        Type::Group(g) => constant_type(&g.elem),
        Type::Array(a) => constant_type(&a.elem),
        Type::Slice(s) => constant_type(&s.elem),
        Type::Tuple(t) => t.elems.is_empty(),
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let name = last.ident.to_string();
            let args: Vec<&Type> = match &last.arguments {
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            match (name.as_str(), args.as_slice()) {
                ("str" | "String" | "char", []) => true,
                ("Option" | "Box" | "Vec", [inner]) => constant_type(inner),
                (other, []) => matches!(scalar_named(other), Some(Ty::Int | Ty::Bool)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// What an array-like parameter type holds.
enum Shape {
    Floats(Box<ParamKind>),
    Other(u8),
}

/// `[f64; N]`, `&[f64; N]`, `&[f64]`, `&Vec<f64>`, and their 2-D forms with rows `[f64; N]`.
fn array_shape(ty: &Type) -> Option<Shape> {
    // The element of one level of array-ness, and whether that level is owned as written.
    fn level(ty: &Type) -> Option<(&Type, bool)> {
        match ty {
            Type::Array(a) => Some((&a.elem, true)),
            Type::Slice(s) => Some((&s.elem, false)),
            Type::Path(p) if p.qself.is_none() => {
                let last = p.path.segments.last()?;
                if last.ident != "Vec" {
                    return None;
                }
                match &last.arguments {
                    syn::PathArguments::AngleBracketed(args) => match args.args.first()? {
                        syn::GenericArgument::Type(elem) => Some((elem, false)),
                        _ => None,
                    },
                    _ => None,
                }
            }
            Type::Paren(p) => level(&p.elem),
            _ => None,
        }
    }
    let (outer, by_ref) = match ty {
        Type::Reference(r) => (&*r.elem, true),
        other => (other, false),
    };
    let (elem, fixed) = level(outer)?;
    let len = |ty: &Type| match ty {
        Type::Array(a) => Some(a.len.clone()),
        _ => None,
    };
    if !by_ref && !fixed {
        // A `Vec<f64>` by value would move the caller's data; slices need a reference.
        return None;
    }
    let (scalar, rank, dims, vec_rows) = match scalar_ty(elem) {
        Some(s) => (s, 1, len(outer).map(|n| vec![n]), false),
        None => match elem {
            Type::Array(row) => (
                scalar_ty(&row.elem)?,
                2,
                len(outer).map(|n| vec![n, row.len.clone()]),
                false,
            ),
            // Rows of their own lengths (`&[Vec<f64>]`): no length in the type.
            row => match level(row) {
                Some((inner, false)) => (scalar_ty(inner)?, 2, None, true),
                _ => return None,
            },
        },
    };
    let Ty::Float(f) = scalar else {
        return Some(Shape::Other(rank));
    };
    // The gradient owns its data: a fixed-size array as such, anything else as a `Vec`. A
    // tangent is passed like the value: a fixed-size array by value, a slice by reference.
    let (grad, buffer, tangent): (Type, Type, Type) = if fixed {
        (outer.clone(), syn::parse_quote!(&mut #outer), outer.clone())
    } else {
        (
            syn::parse_quote!(Vec<#elem>),
            syn::parse_quote!(&mut [#elem]),
            syn::parse_quote!(&[#elem]),
        )
    };
    Some(Shape::Floats(Box::new(ParamKind::Array {
        elem: f,
        rank,
        grad: Box::new(grad),
        buffer: Box::new(buffer),
        tangent: Box::new(tangent),
        dims,
        vec_rows,
    })))
}
