"""Type stubs of the native module (Rust, PyO3). Use :mod:`policy_lang`, which wraps it."""

from typing import Any, Dict, List, Optional, Tuple

DECISION_COLUMNS: List[str]
AMOUNT_SCALE: int

class Engine:
    @staticmethod
    def load(path: str, name: Optional[str] = None, calendars: Optional[str] = None) -> Engine: ...
    @property
    def name(self) -> str: ...
    @property
    def zone(self) -> str: ...
    @property
    def actions(self) -> List[str]: ...
    @property
    def versions_loaded(self) -> List[str]: ...
    @property
    def fields(self) -> List[Tuple[str, str, bool]]: ...
    def reload(self) -> Dict[str, Any]: ...
    def decide_json(
        self, order: str, at: Optional[str] = None, action: Optional[str] = None
    ) -> str: ...
    def explain_json(
        self,
        order: str,
        at: Optional[str] = None,
        action: Optional[str] = None,
        text: bool = False,
    ) -> str: ...
    def decide_batch(
        self,
        batch: Any,
        at: Optional[str] = None,
        action: Optional[str] = None,
        threads: Optional[int] = None,
    ) -> Any: ...
