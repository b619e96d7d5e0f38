"""How easy is the code to carry on? Prints the figures issue 46 asks for, measured on the source as it is:
the longest function and the highest complexity (ruff's mccabe count) in the package, the lines of the
training loop, of DDPG and of cli.py, the imports made inside functions, the import cycles between the
package's modules, and the share of public functions and methods with every parameter and the return
annotated.

    python benchmarks/bench_code.py [--root DIR]

``--root`` measures another checkout (e.g. a clone of an older commit, for a before-and-after table).
"""

import argparse
import ast
import json
import subprocess
import sys
import time
from pathlib import Path

PACKAGES = ("quadcopter", "agents")
TRAIN_FUNCTIONS = ("quadcopter.training.train", "quadcopter.training._train")
"""The public entry point of training and the loop it runs."""


def package_files(root):
    """The package's modules: every .py file under quadcopter/ and agents/, with the Udacity shims."""
    files = [path for package in PACKAGES for path in sorted((root / package).glob("*.py"))]
    return files + [root / name for name in ("physics_sim.py", "task.py") if (root / name).exists()]


def module_name(root, path):
    """quadcopter/cli.py -> "quadcopter.cli"; quadcopter/__init__.py -> "quadcopter"."""
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def functions(tree):
    """(qualified name, node) of every function and method in a module, nested ones included."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((prefix + child.name, child))
                visit(child, prefix + child.name + ".")
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
            else:
                visit(child, prefix)

    visit(tree, "")
    return found


def imported_modules(node, module, is_package):
    """The package modules an import statement names (relative imports resolved against ``module``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    # "from . import x" may import a module x: count both the package and its submodules.
    return [target] + [f"{target}.{alias.name}" for alias in node.names]


def import_graph(root, files):
    """{module: set of package modules it imports, anywhere in it}, and the imports made inside functions
    (import statements, and modules loaded by name with ``importlib.import_module``) as (module, line, what)
    rows."""
    modules = {module_name(root, path): path for path in files}
    graph, inner = {}, []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        graph[name] = set()
        for node in ast.walk(tree):  # imports inside functions close a circle just as well
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets = imported_modules(node, name, path.name == "__init__.py")
                # A module's own packages are imported before it anyway: not an edge of a cycle.
                graph[name] |= {target for target in targets if target in modules and not name.startswith(target)}
        for _, function in functions(tree):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    what = ", ".join(alias.name for alias in node.names)
                    source = "." * getattr(node, "level", 0) + (getattr(node, "module", None) or "")
                    inner.append((name, node.lineno, f"{source}: {what}" if source else what))
                elif is_deferred_load(node):
                    inner.append((name, node.lineno, f"importlib.import_module({ast.unparse(node.args[0])})"))
    return graph, inner


def is_deferred_load(node):
    """True for a call ``importlib.import_module(...)``: a module loaded by name when a function runs."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "import_module"
        and node.args
    )


def reachable(graph, start):
    """Every module ``start`` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        for successor in graph.get(todo.pop(), ()):
            if successor not in seen:
                seen.add(successor)
                todo.append(successor)
    return seen


def cycles(graph):
    """The import cycles: groups of modules that each import the others, directly or through others."""
    reach = {node: reachable(graph, node) for node in graph}
    groups = {frozenset([node] + [other for other in reach[node] if node in reach[other]]) for node in graph}
    return sorted(sorted(group) for group in groups if len(group) > 1)


def is_public(qualified_name):
    """A function or method a user may call: no part of its name starts with "_" (dunder methods count
    as public, ``__init__`` included, since their parameters are the class's)."""
    return all(
        not part.startswith("_") or (part.startswith("__") and part.endswith("__"))
        for part in qualified_name.split(".")
    )


def annotated(function, is_method):
    """True if every parameter (but self / cls) and the return carry an annotation."""
    arguments = function.args
    parameters = arguments.posonlyargs + arguments.args + arguments.kwonlyargs
    if is_method and parameters and parameters[0].arg in ("self", "cls"):
        parameters = parameters[1:]
    parameters += [p for p in (arguments.vararg, arguments.kwarg) if p is not None]
    return all(p.annotation is not None for p in parameters) and function.returns is not None


def complexity(root, files):
    """{(path, function name): mccabe complexity} from ruff (C901 with a threshold of 0 reports them all)."""
    command = [sys.executable, "-m", "ruff", "check", "--select", "C901", "--output-format", "json", "--quiet"]
    command += ["--config", "lint.mccabe.max-complexity = 0", "--no-cache", *map(str, files)]
    report = json.loads(subprocess.run(command, capture_output=True, text=True, cwd=root).stdout or "[]")
    scores = {}
    for item in report:
        # "`name` is too complex (12 > 0)"
        name = item["message"].split("`")[1]
        scores[(Path(item["filename"]).resolve(), name)] = int(item["message"].rsplit("(", 1)[1].split(" ")[0])
    return scores


def measure(root):
    """Every figure of the table, as a dict."""
    files = package_files(root)
    longest, public, public_annotated, missing = ("", 0), 0, 0, []
    lines, code_lines = {}, {}
    for path in files:
        tree = ast.parse(path.read_text())
        methods = {id(node) for cls in ast.walk(tree) if isinstance(cls, ast.ClassDef) for node in cls.body}
        for name, function in functions(tree):
            length = function.end_lineno - function.lineno + 1
            where = f"{module_name(root, path)}.{name}"
            if length > longest[1]:
                longest = (where, length)
            lines[where] = length
            docstring = ast.get_docstring(function, clean=False)
            body_start = function.body[1 if docstring is not None and len(function.body) > 1 else 0].lineno
            code_lines[where] = function.end_lineno - body_start + 1 if docstring is not None else length
            if is_public(name) and not path.name.startswith("_") or path.name == "__init__.py" and is_public(name):
                public += 1
                if annotated(function, id(function) in methods):
                    public_annotated += 1
                else:
                    missing.append(f"{path.relative_to(root)}:{function.lineno} {name}")
        for cls in ast.walk(tree):
            if isinstance(cls, ast.ClassDef):
                lines[f"{module_name(root, path)}.{cls.name}"] = cls.end_lineno - cls.lineno + 1
    scores = complexity(root, files)
    worst = max(scores.items(), key=lambda item: item[1]) if scores else ((root, ""), 0)
    graph, inner = import_graph(root, files)
    return {
        "longest": longest,
        "complexity": (f"{module_name(root, worst[0][0])}.{worst[0][1]}" if scores else "", worst[1]),
        "train": {name: (lines[name], code_lines[name]) for name in TRAIN_FUNCTIONS if name in lines},
        "ddpg": lines.get("agents.agent.DDPG", 0),
        "cli": len(cli.read_text().splitlines()) if (cli := root / "quadcopter" / "cli.py").exists() else 0,
        "inner_imports": inner,
        "cycles": cycles(graph),
        "annotated": (public_annotated, public),
        "unannotated": missing,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="the checkout")
    parser.add_argument("--list-imports", action="store_true", help="also list the imports made inside functions")
    parser.add_argument("--list-unannotated", action="store_true", help="also list the public functions not annotated")
    args = parser.parse_args()
    root = args.root.resolve()
    figures = measure(root)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=root)
    print(f"# {root} at {commit.stdout.strip() or 'no commit'}, {time.strftime('%Y-%m-%d')}")
    print("| figure | value |")
    print("|---|---|")
    name, length = figures["longest"]
    print(f"| longest function | {name}, {length} lines |")
    name, score = figures["complexity"]
    print(f"| highest complexity (mccabe) | {name}, {score} |")
    for name, (length, code) in figures["train"].items():
        print(f"| lines of {name} (without its docstring) | {length} ({code}) |")
    print(f"| lines of class DDPG (agents.agent) | {figures['ddpg']} |")
    print(f"| lines of quadcopter/cli.py | {figures['cli']} |")
    statements = [row for row in figures["inner_imports"] if not row[2].startswith("importlib.")]
    deferred = len(figures["inner_imports"]) - len(statements)
    print(f"| imports inside functions | {len(statements)} statements, {deferred} loads by name (importlib) |")
    print(f"| import cycles | {len(figures['cycles'])} {figures['cycles'] or ''} |")
    done, total = figures["annotated"]
    print(f"| public functions fully annotated | {done} of {total} ({done / max(total, 1):.0%}) |")
    if args.list_unannotated:
        print("\n".join(figures["unannotated"]))
    if args.list_imports:
        for module, line, what in figures["inner_imports"]:
            print(f"{module}:{line} {what}")


if __name__ == "__main__":
    main()
