"""The offline evaluation protocol (recommendations.evaluation) on a small file: which lines count,
the train/test split by date, the targets, and the metrics' arithmetic."""
import gzip
import io
from pathlib import Path

import pytest
from django.core.management import call_command

from recommendations import evaluation

HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
ROWS = [
    "1,10001,RED MUG,1,2011-01-05 10:00,2.0,100,UK",
    "1,10002,RED CUP,1,2011-01-05 10:00,2.0,100,UK",
    "2,10001,RED MUG,1,2011-02-05 10:00,2.0,200,UK",
    "2,10002,RED CUP,1,2011-02-05 10:00,2.0,200,UK",
    "3,10001,RED MUG,1,2011-03-05 10:00,2.0,300,UK",
    "3,10002,RED CUP,1,2011-03-05 10:00,2.0,300,UK",
    "4,10001,RED MUG,1,2011-04-05 10:00,2.0,400,UK",
    "C5,10003,BLUE PLATE,-1,2011-04-06 10:00,2.0,400,UK",  # a credit note
    "6,10003,BLUE PLATE,1,2011-04-07 10:00,2.0,,UK",  # no customer
    "7,POST,POSTAGE,1,2011-04-07 10:00,2.0,400,UK",  # not a product code
    "8,10004,GREEN BOWL,0,2011-04-07 10:00,2.0,400,UK",  # no quantity
    "9,10002,RED CUP,1,2011-10-05 10:00,2.0,400,UK",  # test period: new for customer 400
    "9,10001,RED MUG,1,2011-10-05 10:00,2.0,400,UK",  # bought before: not a target
    "10,10005A,RED MUG LARGE,2,2011-11-05 10:00,2.0,500,UK",  # a customer with no training: not tested
]


@pytest.fixture
def retail(tmp_path) -> Path:
    path = tmp_path / "retail.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(HEADER + "\n".join(ROWS) + "\n")
    return path


def test_the_protocol_keeps_the_right_lines_and_targets(retail):
    lines, descriptions = evaluation.read_lines(retail)
    assert {line.invoice for line in lines} == {"1", "2", "3", "4", "9", "10"}
    assert descriptions["10005A"] == "RED MUG LARGE"
    data = evaluation.split(lines, evaluation.TEST_FROM, None)
    assert data.targets == {"400": {"10002"}}  # 500 bought nothing before; 400's mug was bought before


def test_the_metrics_count_a_hit_at_the_top_as_perfect(retail):
    lines, descriptions = evaluation.read_lines(retail)
    data = evaluation.split(lines, evaluation.TEST_FROM, None)
    recommender = evaluation.Recommender(data, descriptions)
    assert recommender.recommend("400", "also_bought")[0] == "10002"  # bought with the mug by 3 customers
    result = evaluation.metrics(recommender, data.targets, "also_bought")
    assert (result["precision"], result["recall"], result["hit_rate"], result["ndcg"]) == (0.1, 1.0, 1.0, 1.0)


def test_the_command_prints_the_table(retail):
    out = io.StringIO()
    call_command("evaluate_recommendations", str(retail), stdout=out)
    assert "| hybrid |" in out.getvalue() and "1 test customers" in out.getvalue()
