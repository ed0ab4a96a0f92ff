//! `depends_on` (an extension from the Go supervisord, done stricter): which
//! processes an entry names, and the load-time check that every entry
//! names something and that no process depends on itself through others.
//!
//! An entry is `group:name` (one process), `group:*` (a whole group), or a
//! plain name: every process of that program section, or failing that,
//! of that group. The loop resolves entries against the processes it has
//! (the same function), so a dependency in another group, or one added
//! by `update`, counts as well.

use super::GroupConfig;

/// One process as dependency resolution sees it.
#[derive(Debug, Clone, Copy)]
pub struct Named<'a> {
    pub group: &'a str,
    pub name: &'a str,
    /// The section name after `program:` (`%(program_name)s`).
    pub program: &'a str,
}

/// The indexes in `all` of the processes the entry `dep` names.
pub fn resolve(dep: &str, all: &[Named]) -> Vec<usize> {
    let pick = |f: &dyn Fn(&Named) -> bool| -> Vec<usize> {
        all.iter()
            .enumerate()
            .filter(|(_, p)| f(p))
            .map(|(i, _)| i)
            .collect()
    };
    match dep.split_once(':') {
        Some((group, "*")) => pick(&|p| p.group == group),
        Some((group, name)) => pick(&|p| p.group == group && p.name == name),
        None => {
            let by_program = pick(&|p| p.program == dep);
            if by_program.is_empty() {
                pick(&|p| p.group == dep)
            } else {
                by_program
            }
        }
    }
}

/// The entries of a `depends_on` value: comma- or space-separated names.
pub fn parse(value: &str) -> Vec<String> {
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Why a config's dependencies cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DependsError {
    /// The section whose `depends_on` is at fault.
    pub section: String,
    pub message: String,
}

/// Checks every process's `depends_on`: each entry names at least one
/// process, and following the entries never comes back to where it began
/// (the message shows the cycle, `a -> b -> a`, by process names).
pub fn check(groups: &[GroupConfig]) -> Result<(), DependsError> {
    let procs: Vec<_> = groups.iter().flat_map(|g| g.processes.iter()).collect();
    if procs.iter().all(|p| p.depends_on.is_empty()) {
        return Ok(());
    }
    let all: Vec<Named> = procs
        .iter()
        .map(|p| Named {
            group: &p.group,
            name: &p.name,
            program: &p.program,
        })
        .collect();
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(procs.len());
    for p in &procs {
        let mut to = Vec::new();
        for dep in &p.depends_on {
            let found = resolve(dep, &all);
            if found.is_empty() {
                return Err(DependsError {
                    section: p.section.clone(),
                    message: format!("depends_on names unknown program {:?}", dep),
                });
            }
            to.extend(found);
        }
        to.sort_unstable();
        to.dedup();
        edges.push(to);
    }
    if let Some(cycle) = find_cycle(&edges) {
        let names: Vec<String> = cycle.iter().map(|&i| procs[i].namespec()).collect();
        return Err(DependsError {
            section: procs[cycle[0]].section.clone(),
            message: format!("depends_on makes a cycle: {}", names.join(" -> ")),
        });
    }
    Ok(())
}

/// A cycle in the graph, as the nodes along it with the first repeated at
/// the end; None when there is none. Iterative depth-first search, so a
/// long chain of dependencies cannot overflow the stack.
fn find_cycle(edges: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; edges.len()];
    for start in 0..edges.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // (node, next edge to follow)
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some(&mut (node, ref mut next)) = path.last_mut() {
            match edges[node].get(*next) {
                Some(&to) => {
                    *next += 1;
                    match mark[to] {
                        Mark::New => {
                            mark[to] = Mark::OnPath;
                            path.push((to, 0));
                        }
                        Mark::OnPath => {
                            let from = path.iter().position(|&(n, _)| n == to).unwrap_or(0);
                            let mut cycle: Vec<usize> =
                                path[from..].iter().map(|&(n, _)| n).collect();
                            cycle.push(to);
                            return Some(cycle);
                        }
                        Mark::Done => {}
                    }
                }
                None => {
                    mark[node] = Mark::Done;
                    path.pop();
                }
            }
        }
    }
    None
}

/// For the loop: each process's dependencies and dependents, by index
/// into the same list, rebuilt whenever the set of processes changes.
#[derive(Debug, Default, Clone)]
pub struct Graph {
    /// Per process: for each entry, the entry and the processes it names
    /// (empty when it names nothing loaded now).
    pub dependencies: Vec<Vec<(String, Vec<usize>)>>,
    /// Per process: the processes that depend on it.
    pub dependents: Vec<Vec<usize>>,
}

impl Graph {
    /// The graph of `all`, whose entries are `depends_on(i)`.
    pub fn build<'a>(all: &[Named], depends_on: impl Fn(usize) -> &'a [String]) -> Graph {
        let mut dependencies = Vec::with_capacity(all.len());
        let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); all.len()];
        for i in 0..all.len() {
            let mut mine = Vec::new();
            for dep in depends_on(i) {
                let found: Vec<usize> = resolve(dep, all).into_iter().filter(|&j| j != i).collect();
                for &j in &found {
                    if !dependents[j].contains(&i) {
                        dependents[j].push(i);
                    }
                }
                mine.push((dep.clone(), found));
            }
            dependencies.push(mine);
        }
        Graph {
            dependencies,
            dependents,
        }
    }

    /// Whether any process has a dependency.
    pub fn is_empty(&self) -> bool {
        self.dependencies.iter().all(Vec::is_empty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(rows: &'a [(&'a str, &'a str, &'a str)]) -> Vec<Named<'a>> {
        rows.iter()
            .map(|&(group, name, program)| Named {
                group,
                name,
                program,
            })
            .collect()
    }

    #[test]
    fn entries_name_processes_programs_and_groups() {
        let rows = [
            ("web", "web_0", "web"),
            ("web", "web_1", "web"),
            ("db", "db", "db"),
            ("pair", "a", "a"),
            ("pair", "b", "b"),
        ];
        let all = named(&rows);
        assert_eq!(resolve("web", &all), vec![0, 1]);
        assert_eq!(resolve("web:web_1", &all), vec![1]);
        assert_eq!(resolve("pair:*", &all), vec![3, 4]);
        assert_eq!(resolve("pair", &all), vec![3, 4]);
        assert_eq!(resolve("a", &all), vec![3]);
        assert!(resolve("nope", &all).is_empty());
        assert!(resolve("web:nope", &all).is_empty());
    }

    #[test]
    fn values_split_on_commas_and_spaces() {
        assert_eq!(parse("a, b,c  d"), vec!["a", "b", "c", "d"]);
        assert!(parse(" , ").is_empty());
    }

    #[test]
    fn cycles_are_found_and_shown_in_order() {
        assert_eq!(find_cycle(&[vec![1], vec![2], vec![]]), None);
        assert_eq!(find_cycle(&[vec![1], vec![0]]), Some(vec![0, 1, 0]));
        assert_eq!(find_cycle(&[vec![0]]), Some(vec![0, 0]));
        assert_eq!(
            find_cycle(&[vec![1], vec![2], vec![3], vec![1]]),
            Some(vec![1, 2, 3, 1])
        );
        // A diamond is not a cycle.
        assert_eq!(find_cycle(&[vec![1, 2], vec![3], vec![3], vec![]]), None);
    }

    #[test]
    fn a_long_chain_does_not_overflow_the_stack() {
        let n = 200_000;
        let mut edges: Vec<Vec<usize>> = (0..n).map(|i| vec![i + 1]).collect();
        edges[n - 1] = vec![];
        assert_eq!(find_cycle(&edges), None);
        edges[n - 1] = vec![0];
        assert_eq!(find_cycle(&edges).map(|c| c.len()), Some(n + 1));
    }

    #[test]
    fn the_graph_has_both_directions() {
        let rows = [("a", "a", "a"), ("b", "b", "b"), ("c", "c", "c")];
        let all = named(&rows);
        let deps = [
            vec!["b".to_string(), "c".to_string()],
            vec!["c".to_string()],
            vec![],
        ];
        let g = Graph::build(&all, |i| &deps[i]);
        assert_eq!(
            g.dependencies[0],
            vec![("b".to_string(), vec![1]), ("c".to_string(), vec![2])]
        );
        assert_eq!(g.dependents[2], vec![0, 1]);
        assert_eq!(g.dependents[1], vec![0]);
        assert!(!g.is_empty());
    }
}
