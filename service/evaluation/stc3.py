"""The STC-3 customer-helpdesk dialogues as a labelled set: helpdesk turns are the agent's, each dialogue carries
19 human ratings of A (task accomplished), S (satisfaction) and E (effectiveness), each in -2..2. Raters are
named by their position (``r01``..``r19``), which is the same rater across the file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from service.evaluation.labelled import LabelledDialogue
from service.transcripts.schemas import Transcript, Turn


def load_stc3(path: Path, sample: int | None = None, seed: int = 0) -> list[LabelledDialogue]:
    """Read a STC-3 jsonl file; with ``sample``, a seeded random sample (the same seed, the same dialogues)."""
    dialogues = []
    language = "en" if "_en" in path.name else "zh"
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                turns = [
                    Turn(speaker="agent" if t["sender"] == "helpdesk" else "customer",
                         text=" ".join(u.strip() for u in t["utterances"] if u.strip()) or "…")
                    for t in data["turns"]
                ]
                transcript = Transcript(id=f"stc3-{data['id']}", agent_id="stc3-helpdesk", channel="weibo",
                                        language=language, turns=turns)
                ratings = {
                    label: {f"r{i:02d}": float(v) for i, v in enumerate(values, start=1)}
                    for label, values in data["quality"].items()
                }
                dialogues.append(LabelledDialogue(transcript=transcript, ratings=ratings))
            except (KeyError, ValueError, TypeError) as error:
                raise ValueError(f"{path}: line {lineno}: not a STC-3 dialogue ({error})") from None
    if sample is not None and sample < len(dialogues):
        dialogues = random.Random(seed).sample(dialogues, sample)
    return dialogues
