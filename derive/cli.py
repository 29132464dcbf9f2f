"""The `derive` command line: click only, calling the library.

Every DeriveError becomes one line on stderr and exit status 2, here and
nowhere else (`DeriveGroup.invoke`).
"""

import gc
import os
import sys

import click

from .errors import DeriveError
from .kinds import NAMES as KIND_NAMES

FORMATS = ("text", "markdown", "latex", "json", "html")


class DeriveGroup(click.Group):
    """A click group that turns library errors into one line and a status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except DeriveError as error:
            click.echo(str(error), err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # a reader that stopped early (`| head`): click exits quietly
            raise
        except (RecursionError, MemoryError) as error:
            click.echo(f"derive: input too large to handle ({type(error).__name__})", err=True)
            ctx.exit(2)
        except Exception as error:  # a bug: still one line, never a traceback
            if os.environ.get("DERIVE_DEBUG"):
                raise
            click.echo(f"derive: internal error ({type(error).__name__}: {error}); "
                       "set DERIVE_DEBUG=1 for the traceback", err=True)
            ctx.exit(3)


@click.group(cls=DeriveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="derive", prog_name="derive")
def cli():
    """Solve, explain and grade the mathematics of neural-network courses."""


@cli.command()
@click.argument("problem")
@click.option("--format", "-f", "format_", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Output format.")
@click.option("--exact", is_flag=True, help="Do not round intermediates, whatever the problem file says.")
@click.option("--keys", is_flag=True, help="Show each step's answer-sheet key (text, markdown, latex).")
@click.option("--plot", "plot_path", type=click.Path(dir_okay=False),
              help="Also draw the error surface (critical_points) or the optimisers' paths (optimizer), "
                   "for 2 parameters, to this .png, .svg or .pdf file (8 x 4.5 inches, a slide's 16:9).")
@click.option("--dpi", type=click.IntRange(50, 1200), default=200, show_default=True,
              help="With --plot: dots per inch (a PNG's size in pixels is 8 x 4.5 times this).")
@click.option("--fragment", is_flag=True,
              help="With --format latex: the document's body only, for pasting; its first line names the "
                   "packages it needs.")
@click.option("--full", is_flag=True,
              help="Print every entry of a vector or matrix (matrix notation); by default a large one shows its "
                   "corners, as numpy prints it.")
def solve(problem, format_, exact, keys, plot_path, dpi, fragment, full):
    """Print the worked solution of PROBLEM (a file, or a bundled problem's name).

    --format latex prints a whole document that pdflatex compiles as it is; --format html one
    self-contained page, its mathematics in MathML, which browsers lay out without a script.
    """
    from .assignment import Assignment, load
    from .render import render
    from .steps import EXACT

    if fragment and format_ != "latex":
        raise click.UsageError("--fragment needs --format latex")
    loaded = load(problem)
    settings = {} if format_ == "json" else {"keys": keys, "full": full}
    if format_ == "latex":
        settings["fragment"] = fragment
    if isinstance(loaded, Assignment):
        if plot_path:
            raise click.UsageError("--plot draws one problem's figure; give the part's problem instead")
        from .render.assignment import render_assignment

        solutions = {part.name: part.problem.solve(EXACT if exact else None) for part in loaded.parts}
        click.echo(render_assignment(loaded, solutions, format_, **settings), nl=False)
        return
    solution = loaded.solve(EXACT if exact else None)
    if plot_path:  # drawn before printing, so that a refusal is the only line printed
        from .plot import plot_solution

        plot_solution(loaded, solution, plot_path, dpi)
    click.echo(render(solution, format_, **settings), nl=False)


@cli.command()
@click.argument("problems", nargs=-1, required=True)
def check(problems):
    """Validate problem or assignment files without printing a solution."""
    from .assignment import Assignment, load
    from .grading.config import read_grading
    from .vary.variants import check_random

    for problem in problems:
        loaded = load(problem)
        if isinstance(loaded, Assignment):
            for part in loaded.parts:  # each part's grading as the assignment has it
                read_grading(part.problem, part.problem.solve())
            click.echo(f"{loaded.path}: ok (assignment, {len(loaded.parts)} parts)")
            continue
        read_grading(loaded, loaded.solve())  # the `grading` field names the solution's step keys
        check_random(loaded.path, loaded)  # the fields `derive variants` reads
        click.echo(f"{loaded.path}: ok ({loaded.kind})")


@cli.command(name="list")
def list_problems():
    """List the bundled problems and assignments, one line each."""
    from .assignment import bundled_assignments
    from .problem import bundled_problems, read_yaml

    rows = [(path.stem, str(data.get("kind", "?")), str(data.get("title", "")))
            for path in bundled_problems() + bundled_assignments() for data in [read_yaml(path)[0]]]
    name_width = max((len(name) for name, _, _ in rows), default=0)
    kind_width = max((len(kind) for _, kind, _ in rows), default=0)
    for name, kind, title in rows:
        click.echo(f"{name:<{name_width}}  {kind:<{kind_width}}  {title}")


@cli.command()
@click.argument("problem")
def template(problem):
    """Print a blank answer sheet for PROBLEM: every gradable key, in solution order.

    For an assignment, a section per part."""
    from .assignment import Assignment, load
    from .grading.config import read_grading
    from .grading.sheet import blank_sheet

    loaded = load(problem)
    if isinstance(loaded, Assignment):
        from .grading.assignment import blank_assignment_sheet

        click.echo(blank_assignment_sheet(loaded), nl=False)
        return
    solution = loaded.solve()
    click.echo(blank_sheet(loaded, solution, read_grading(loaded, solution).items), nl=False)


@cli.command()
@click.argument("problem")
@click.argument("sheets", nargs=-1, required=True)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write a CSV gradebook here.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), help="Write every verdict as JSON here.")
@click.option("--gradescope", "gradescope_path", type=click.Path(),
              help="Write Gradescope's results.json here (with several sheets: a directory, <id>.json each).")
@click.option("--variants", "variants_dir", type=click.Path(file_okay=False),
              help="Mark each sheet against its student's own variant in this directory (from `derive variants`).")
@click.option("--summary-csv", "summary_path", type=click.Path(dir_okay=False),
              help="Write the per-item class summary (outcomes and slips) as CSV here.")
@click.option("--latex", "latex_path", type=click.Path(dir_okay=False),
              help="Write the report as a LaTeX document (pdflatex compiles it) here.")
@click.option("--html", "html_dir", type=click.Path(file_okay=False), metavar="DIRECTORY",
              help="Write web pages here: index.html for the class (charts of scores, outcomes per item, "
                   "common slips) and students/<id>.html, each student's feedback.")
def grade(problem, sheets, csv_path, json_path, gradescope_path, variants_dir, summary_path, latex_path, html_dir):
    """Mark answer SHEETS (files or directories of .yaml files) against PROBLEM.

    PROBLEM may be an assignment: each sheet then has a section per part, and the report a total.

    With --variants, a sheet is matched to `<id>.yaml` by its `id` field or its file name.

    Exit status: 0 all sheets graded, 1 some sheets unreadable, 2 bad usage or problem file.
    """
    from . import api
    from .assignment import Assignment, load

    loaded = load(problem)
    # the class summary printed shows no calculations: they are made only for the reports that do
    calculations = any(path is not None for path in (json_path, gradescope_path, html_dir, latex_path))
    if isinstance(loaded, Assignment):
        result = _kept(api.grade_assignment, loaded, sheets, variants=variants_dir or None, calculations=calculations)
        result.write(csv=csv_path, json=json_path, gradescope=gradescope_path, html=html_dir,
                     summary_csv=summary_path, latex=latex_path)
        click.echo(result.to_text(), nl=False)
        if result.unreadable:
            raise click.exceptions.Exit(1)
        return
    result = _kept(api.grade_class, loaded, sheets, variants=variants_dir or None, calculations=calculations)
    result.write(csv=csv_path, json=json_path, gradescope=gradescope_path, summary_csv=summary_path,
                 latex=latex_path, html=html_dir)
    click.echo(result.to_text(), nl=False)
    if result.unreadable:
        raise click.exceptions.Exit(1)


_OWN_PROCESS = False  # derive runs as its own process (`main`), which ends when the command does


def _kept(grade, *args, **kwargs):
    """`grade(*args, **kwargs)`, a class's grading in child processes, its results kept to the end of this
    process: the collector stays off while they come in and then leaves them be (frozen), instead of
    walking every object of every verdict once it is on again (a tenth of a second for 10,000 sheets) and
    again as the reports are made. Only in derive's own process (`main`), which ends after the command:
    called from Python (click's test runner), and where there is no fork (the sheets are then graded in
    this process), the collector runs as usual."""
    if not (_OWN_PROCESS and hasattr(os, "fork")):
        return grade(*args, **kwargs)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return grade(*args, **kwargs)
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


@cli.command()
@click.argument("problem")
@click.option("--roster", required=True, type=click.Path(dir_okay=False),
              help="CSV file with a header line and an id column: one variant per student.")
@click.option("--out", "out_dir", required=True, type=click.Path(), metavar="DIRECTORY",
              help="Directory for <id>.yaml per student, answer-key.md and answer-key.tex (for an assignment, "
                   "in a folder per part that draws numbers).")
@click.option("--draws", default=1000, show_default=True, type=click.IntRange(1, 1_000_000),
              help="Draws tried per student before a constraint is reported as unmet.")
def variants(problem, roster, out_dir, draws):
    """Write one variant of PROBLEM per student of a roster, and their answer key.

    The numbers marked `random` are drawn from the SHA-256 of the problem's text
    and the student's id, so the same id always gets the same file.
    """
    from . import api
    from .vary.variants import AssignmentVariants, write_assignment_variants, write_variants

    made = api.variants(problem, roster, draws)
    if isinstance(made, AssignmentVariants):
        written = write_assignment_variants(made, out_dir)
    else:
        written = write_variants(made, out_dir)
    for path in written:
        click.echo(f"wrote {path}")


@cli.command()
@click.argument("problem")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="The autograder zip to write (for Gradescope's programming assignments).")
def gradescope(problem, out_path):
    """Write a Gradescope autograder for PROBLEM (or an assignment) as a zip.

    It holds setup.sh, run_autograder, a wheel of this derive and the problem files; on Gradescope it
    grades the student's one YAML answer sheet and writes results.json, whatever was uploaded.
    """
    from .assignment import load
    from .grading.gradescope import build_autograder

    names = build_autograder(load(problem), out_path)
    click.echo(f"wrote {out_path}: {', '.join(names)}")


@cli.command()
@click.argument("kind", required=False)
def schema(kind):
    """Print the JSON Schema of problem files of KIND, or of any kind.

    KIND may be `assignment`, the schema of assignment files.

    Editors use it to complete and check problem files. Save it (`derive schema > derive-problem.schema.json`) and put
    `# yaml-language-server: $schema=derive-problem.schema.json` at the top of a problem file.
    """
    import difflib

    from .fields import schema_text

    if kind is not None and kind not in KIND_NAMES and kind != "assignment":
        close = difflib.get_close_matches(kind, [*KIND_NAMES, "assignment"], n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DeriveError(f"derive schema: no kind {kind!r}{hint}; the kinds are {', '.join(KIND_NAMES)}, "
                          "and assignment")
    click.echo(schema_text(kind), nl=False)


def main():
    """Console-script entry point."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    try:
        cli(prog_name="derive")
    finally:
        # what the run made is freed as the process ends: the collector's last pass at exit need not walk it
        # (a class's results, SymPy's caches; a tenth of a second after a 10,000-sheet class)
        gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
