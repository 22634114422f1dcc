//! Route matching the way a REST API's resource tree matches.
//!
//! A resource path part is a literal, a `{param}`, or a greedy `{proxy+}` (last part only, one or
//! more segments). When several resources match, literal parts win over parameters and
//! parameters over greedy ones, position by position from the left. A path that matches a
//! resource but not its methods is, on a REST API, the same as no resource at all: 403
//! `Missing Authentication Token` (the gateway decides that, not this module).

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

use crate::template::Template;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// One route: an `Api` event of a function.
#[derive(Debug, Clone)]
pub struct Route {
    /// The resource path as written (`/images/{id}`), the event's `resource` / `resourcePath`.
    pub resource: String,
    /// Uppercase method or `ANY`.
    pub method: String,
    /// Logical id of the function to invoke.
    pub function: String,
    pub api_key_required: bool,
    parts: Vec<Part>,
}

/// A matched request.
#[derive(Debug, Clone)]
pub struct RouteMatch<'a> {
    pub route: &'a Route,
    /// Decoded path parameters (`id` → `abc`, `proxy` → `a/b/c`).
    pub path_parameters: BTreeMap<String, String>,
}

/// What a path matched.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(RouteMatch<'a>),
    /// A resource exists for the path; these are its methods (for CORS preflight).
    NoMethod {
        resource: &'a str,
        methods: Vec<&'a str>,
    },
    NoResource,
}

#[derive(Debug, Clone, Default)]
pub struct Routes {
    routes: Vec<Route>,
}

impl Routes {
    pub fn from_template(template: &Template) -> Routes {
        let mut routes = Routes::default();
        for function in &template.functions {
            for event in &function.api_events {
                routes.add(
                    &event.method,
                    &event.path,
                    &function.logical_id,
                    event.api_key_required,
                );
            }
        }
        routes
    }

    pub fn add(&mut self, method: &str, resource: &str, function: &str, api_key_required: bool) {
        let parts = split(resource)
            .map(
                |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Part::Greedy(greedy.to_owned()),
                        None => Part::Param(name.to_owned()),
                    },
                    None => Part::Literal(part.to_owned()),
                },
            )
            .collect();
        self.routes.push(Route {
            resource: resource.to_owned(),
            method: method.to_ascii_uppercase(),
            function: function.to_owned(),
            api_key_required,
            parts,
        });
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    /// Finds the route for `method` on a raw (still percent-encoded) `path`.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let segments: Vec<&str> = split(path).collect();
        // The most specific matching resource, then a method on it (exact, else ANY).
        let mut best: Option<(Vec<u8>, &str)> = None;
        for route in &self.routes {
            if let Some(rank) = rank(&route.parts, &segments)
                && best.as_ref().is_none_or(|(best_rank, _)| rank > *best_rank)
            {
                best = Some((rank, route.resource.as_str()));
            }
        }
        let Some((_, resource)) = best else {
            return Lookup::NoResource;
        };
        let on_resource: Vec<&Route> = self
            .routes
            .iter()
            .filter(|r| r.resource == resource)
            .collect();
        let chosen = on_resource
            .iter()
            .find(|r| r.method == method)
            .or_else(|| on_resource.iter().find(|r| r.method == "ANY"));
        match chosen {
            Some(route) => Lookup::Found(RouteMatch {
                route,
                path_parameters: parameters(&route.parts, &segments),
            }),
            None => Lookup::NoMethod {
                resource,
                methods: on_resource.iter().map(|r| r.method.as_str()).collect(),
            },
        }
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|segment| !segment.is_empty())
}

/// `None` when `parts` does not match; otherwise a rank, compared lexicographically (2 literal,
/// 1 parameter, 0 greedy per position), so the most specific resource wins.
fn rank(parts: &[Part], segments: &[&str]) -> Option<Vec<u8>> {
    let mut rank = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Greedy(_) => {
                if index >= segments.len() || index + 1 != parts.len() {
                    return None;
                }
                rank.push(0);
                return Some(rank);
            }
            Part::Literal(literal) => {
                if segments.get(index)? != literal {
                    return None;
                }
                rank.push(2);
            }
            Part::Param(_) => {
                segments.get(index)?;
                rank.push(1);
            }
        }
    }
    (parts.len() == segments.len()).then_some(rank)
}

fn parameters(parts: &[Part], segments: &[&str]) -> BTreeMap<String, String> {
    let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
    let mut out = BTreeMap::new();
    for (index, part) in parts.iter().enumerate() {
        match part {
            Part::Param(name) => {
                out.insert(name.clone(), decode(segments[index]));
            }
            Part::Greedy(name) => {
                out.insert(name.clone(), decode(&segments[index..].join("/")));
            }
            Part::Literal(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes() -> Routes {
        let mut routes = Routes::default();
        routes.add("GET", "/", "Serve", false);
        routes.add("POST", "/images", "Upload", true);
        routes.add("GET", "/images/{id}", "Serve", false);
        routes.add("DELETE", "/images/{id}", "Upload", true);
        routes.add("GET", "/images/{id}/{file}", "Serve", false);
        routes.add("GET", "/images/latest", "Latest", false);
        routes.add("ANY", "/files/{proxy+}", "Files", false);
        routes
    }

    fn found<'a>(routes: &'a Routes, method: &str, path: &str) -> RouteMatch<'a> {
        match routes.lookup(method, path) {
            Lookup::Found(found) => found,
            other => panic!("{method} {path}: {other:?}"),
        }
    }

    #[test]
    fn path_parameters_are_extracted() {
        let routes = routes();
        let m = found(&routes, "GET", "/images/abc/256.jpg");
        assert_eq!(m.route.resource, "/images/{id}/{file}");
        assert_eq!(m.path_parameters["id"], "abc");
        assert_eq!(m.path_parameters["file"], "256.jpg");
        assert_eq!(
            found(&routes, "DELETE", "/images/abc").route.function,
            "Upload"
        );
        assert_eq!(found(&routes, "GET", "/").route.function, "Serve");
    }

    #[test]
    fn literal_beats_parameter() {
        let routes = routes();
        assert_eq!(
            found(&routes, "GET", "/images/latest").route.function,
            "Latest"
        );
    }

    #[test]
    fn greedy_takes_the_rest() {
        let routes = routes();
        let m = found(&routes, "PUT", "/files/a/b%20c/d");
        assert_eq!(m.path_parameters["proxy"], "a/b c/d");
        assert!(matches!(routes.lookup("GET", "/files"), Lookup::NoResource));
    }

    #[test]
    fn unknown_method_and_path() {
        let routes = routes();
        assert!(matches!(
            routes.lookup("PUT", "/images"),
            Lookup::NoMethod { .. }
        ));
        assert!(matches!(routes.lookup("GET", "/nope"), Lookup::NoResource));
        assert!(matches!(
            routes.lookup("GET", "/images/a/b/c"),
            Lookup::NoResource
        ));
    }
}
