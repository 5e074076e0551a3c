"""`python -m app shell [-c CODE]`: Django's shell, for an async ORM.

Tortoise's queries are coroutines, and its connections belong to the event loop and the
context (contextvars) they were opened in: a plain Python prompt cannot await them, and
`asyncio.run()` per statement would run each on a new loop, away from the pool. This
console compiles with top-level `await` (as `python -m asyncio` does) and runs every
statement, sync or async, on one loop and in the one context where Tortoise was set up.
The loop runs while a statement does: a task a statement starts progresses during the
next statements that await, not while the prompt waits.
"""

import ast
import asyncio
import builtins
import code
import contextvars
import inspect
import sys
import traceback
import types
from typing import Any

from tortoise import Tortoise
from tortoise.exceptions import OperationalError
from tortoise.expressions import F, Q
from tortoise.query_utils import Prefetch
from tortoise.transactions import in_transaction

from app.commands import database_error
from app.db.errors import DATABASE_UNAVAILABLE

EXAMPLE = 'await User.filter(is_active=True).prefetch_related("items")'


class Session:
    """One loop and one context: Tortoise's connections and every statement's code."""

    def __init__(self, runner: asyncio.Runner) -> None:
        self.runner = runner
        self.context = contextvars.copy_context()

    def await_(self, coroutine: Any) -> Any:
        return self.runner.run(coroutine, context=self.context)

    def execute(self, compiled: types.CodeType, namespace: dict[str, Any]) -> None:
        """Run compiled code; with top-level `await` in it, it is a coroutine to run."""
        result = self.context.run(types.FunctionType(compiled, namespace))
        if inspect.iscoroutine(result):
            self.await_(result)


class AsyncConsole(code.InteractiveConsole):
    """The standard console, with `await` allowed at the top level."""

    def __init__(self, namespace: dict[str, Any], session: Session) -> None:
        super().__init__(namespace)
        self.compile.compiler.flags |= ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        self.session = session

    def runcode(self, code: types.CodeType) -> None:
        try:
            self.session.execute(code, self.locals)
        except SystemExit:
            raise
        except BaseException as exc:  # KeyboardInterrupt too: the statement is cancelled
            self.write(_user_traceback(exc, code.co_filename))


def _user_traceback(exc: BaseException, filename: str) -> str:
    """The traceback from the user's code on, without this module's and asyncio's frames."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_frame.f_code.co_filename != filename:
        frame = frame.tb_next
    return "".join(traceback.format_exception(type(exc), exc, frame))


def _namespace() -> dict[str, Any]:
    """Every model `app.models` exports, the settings, and Tortoise's usual helpers."""
    import app.models
    from app.core.config import get_settings

    models = {name: getattr(app.models, name) for name in app.models.__all__}
    helpers = {"Tortoise": Tortoise, "in_transaction": in_transaction, "Q": Q, "F": F}
    return {
        "__name__": "__console__",
        "__builtins__": builtins,
        **models,
        "settings": get_settings(),
        **helpers,
        "Prefetch": Prefetch,
    }


async def _connect(config: dict[str, Any]) -> None:
    """Set Tortoise up and ask the database once: unreachable or unmigrated shows now."""
    from app.models import User

    await Tortoise.init(config=config)
    await User.exists()


def _banner(namespace: dict[str, Any]) -> str:
    imported = ", ".join(name for name in namespace if not name.startswith("__"))
    return (
        f"Python {sys.version.split()[0]} shell with Tortoise ORM on the configured database; "
        f"top-level await works, e.g. {EXAMPLE}\nImported: {imported}"
    )


def _interact(namespace: dict[str, Any], session: Session) -> None:
    if sys.stdin.isatty():  # line editing, and Tab completion of the namespace
        try:
            import readline
            import rlcompleter

            readline.set_completer(rlcompleter.Completer(namespace).complete)
            readline.parse_and_bind("tab: complete")
        except ImportError:
            pass
    AsyncConsole(namespace, session).interact(banner=_banner(namespace), exitmsg="")


def shell(command: str | None) -> int:
    """The console (or `command`, run once), then the connections closed."""
    from app.db.config import TORTOISE_ORM

    compiled = None
    if command is not None:  # a syntax error needs no database
        try:
            compiled = compile(command, "<command>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        except SyntaxError:
            traceback.print_exc(limit=0)
            return 1
    namespace = _namespace()
    with asyncio.Runner() as runner:
        session = Session(runner)
        try:
            try:
                session.await_(_connect(TORTOISE_ORM))
            except (*DATABASE_UNAVAILABLE, OperationalError) as exc:
                return database_error(exc)
            if compiled is None:
                _interact(namespace, session)
                return 0
            try:
                session.execute(compiled, namespace)
            except Exception as exc:
                print(_user_traceback(exc, compiled.co_filename), end="", file=sys.stderr)
                return 1
            return 0
        finally:
            session.await_(Tortoise.close_connections())
