"""Read a scoring-protocol request body (MLflow's formats) into records for the prediction service."""

from dataclasses import dataclass

from csv_processor.ml.json_values import JsonValue
from csv_processor.ml.serving.protocol import ProtocolError, scoring_csv, scoring_json

__all__ = ["ProtocolError", "ScoringRequest", "scoring_input_read"]


@dataclass(frozen=True)
class ScoringRequest:
    records: list[dict]
    params: dict | None
    text_values: bool


def scoring_input_read(*, content_type: str, data: JsonValue | bytes) -> ScoringRequest:
    """JSON bodies carry typed values; CSV cells are text, read as numbers where the model expects them.

    `data` is the parsed body: bytes from the CSV parser, the decoded value from the JSON one."""
    if content_type.split(";")[0].strip().lower() == "text/csv":
        # Anything but bytes is refused as an empty CSV body.
        parsed = scoring_csv(data if isinstance(data, bytes) else b"")
        return ScoringRequest(parsed.records, None, True)
    parsed = scoring_json(data)
    return ScoringRequest(parsed.records, parsed.params, False)
