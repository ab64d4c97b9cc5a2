"""The Pan-NET data dictionary, as data.

One :class:`Field` per canonical column (see ``docs/architecture.md``,
"Pan-NET canonical columns").  Each field says its type, the values it may
take, its unit, whether the pipeline needs it, which study (seed ``000`` =
primary tumour resection, ``001`` = liver surgery / thermal ablation) it
comes from, and the headers (English and Swedish) a hospital export uses for
it.  ``docs/data-dictionary.md`` is generated from this module by
:func:`dictionary_markdown`.

Header matching ignores case, accents, spaces and punctuation
(:func:`normalise`), so ``"Kön"``, ``"KON"`` and ``"kön "`` are one header.
Value synonyms (``ja``/``nej``, ``kvinna``/``man``, ``NET G1``,
``Whipple`` ...) are matched the same way by :func:`canonical_value`.

Also here: the :class:`Problem` record shared by reading and validation, and
the template files offered for download by the dashboard.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

TYPES = ("id", "text", "category", "yesno", "integer", "number", "date")

#: the pipeline needs every one of these columns
REQUIRED = ("patient_id", "stage4_date")
#: ... and at least one column of each of these groups
REQUIRED_ONE_OF = (("death_date", "last_followup_date"),)


@dataclass(frozen=True)
class Problem:
    """One problem found in a table.

    Attributes
    ----------
    row : int or None
        1-based data row as in the file (row 1 is the first row under the
        header); ``None`` for a problem with the whole file or a column.
    column : str or None
        Canonical (or, for generic settings, file) column name.
    value : object
        The offending value as read, or ``None``.
    problem : str
        What is wrong, in plain words.
    fix : str
        How to fix it.
    severity : str
        ``"error"`` (the file cannot be analysed until fixed) or
        ``"warning"`` (analysis runs; the row may be left out or the value
        should be checked).
    """

    row: int | None
    column: str | None
    value: Any
    problem: str
    fix: str
    severity: str = "error"


#: ``frame.attrs`` key of the cells reading could not convert, so that validation reports them
PROBLEMS_ATTR = "pannet_problems"


@dataclass(frozen=True)
class Field:
    """One column of the data dictionary.

    Attributes
    ----------
    name : str
        Canonical column name.
    type : str
        One of ``id, text, category, yesno, integer, number, date``.
    allowed : tuple of str
        Canonical values of a ``category`` field (empty otherwise).
    unit : str
        Unit of a number (``""`` if none).
    required : bool
        The Pan-NET pipeline cannot run without this column (see also
        :data:`REQUIRED_ONE_OF`).
    description : str
        What the column holds.
    seed : tuple of str
        The studies the field comes from: ``"000"`` and/or ``"001"``.
    synonyms : tuple of str
        File headers meaning this field (matched with :func:`normalise`).
    minimum, maximum : float or None
        Plausible range of a number; values outside are errors.
    values : dict
        Extra value synonyms, written form -> canonical value (matched with
        :func:`normalise`).  Yes/no and sex synonyms are shared.
    strict : bool
        A value outside ``allowed`` is an error (``True``) or a warning.
    """

    name: str
    type: str
    allowed: tuple[str, ...] = ()
    unit: str = ""
    required: bool = False
    description: str = ""
    seed: tuple[str, ...] = ("000",)
    synonyms: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    values: dict = field(default_factory=dict, hash=False, compare=False)
    strict: bool = True

    def __post_init__(self) -> None:
        if self.type not in TYPES:  # pragma: no cover - programming error
            raise ValueError(f"bad type {self.type!r} for {self.name}")


# ---------------------------------------------------------------------------
# normalisation
_EXTRA_LETTERS = str.maketrans({"ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "ß": "ss", "đ": "d", "ł": "l",
                                "×": "x", "µ": "u"})
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise(text: Any) -> str:
    """Header / value key: lower case, accents removed, only letters and digits.

    Examples
    --------
    >>> normalise(" Kön ")
    'kon'
    >>> normalise("Patient-ID")
    'patientid'
    """
    s = str(text).translate(_EXTRA_LETTERS)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).lower()
    return _NON_ALNUM.sub("", s)


# ---------------------------------------------------------------------------
# shared value synonyms
YES = ("yes", "y", "ja", "j", "true", "t", "1", "x", "positive", "pos", "+", "present", "förekommer")
NO = ("no", "n", "nej", "false", "f", "0", "negative", "neg", "absent", "ingen", "inga", "none")
SEX = {"female": ("female", "f", "woman", "women", "w", "kvinna", "k", "kvinnlig", "fem", "kv"),
       "male": ("male", "m", "man", "men", "manlig", "mann", "mas")}


def _vals(mapping: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {w: canon for canon, words in mapping.items() for w in words}


_GRADE = _vals({
    "G1": ("G1", "1", "NET G1", "grade 1", "grad 1", "NET grade 1", "WHO G1", "WHO 1", "I", "low grade"),
    "G2": ("G2", "2", "NET G2", "grade 2", "grad 2", "NET grade 2", "WHO G2", "WHO 2", "II",
           "intermediate grade"),
    "G3": ("G3", "3", "NET G3", "grade 3", "grad 3", "NET grade 3", "WHO G3", "WHO 3", "III",
           "well differentiated G3"),
    "NEC": ("NEC", "NEC G3", "G3 NEC", "neuroendocrine carcinoma", "poorly differentiated",
            "lågt differentierad", "neuroendokrin cancer", "neuroendokrint karcinom", "small cell", "large cell"),
    "unknown": ("unknown", "GX", "X", "ej graderad", "not graded", "ungraded"),
})
_HEREDITARY = _vals({
    "sporadic": ("sporadic", "sporadisk", "no", "nej", "none", "ingen", "0"),
    "MEN1": ("MEN1", "MEN-1", "MEN 1", "MEN I", "MEN type 1", "multiple endocrine neoplasia type 1",
             "multipel endokrin neoplasi typ 1"),
    "VHL": ("VHL", "von Hippel-Lindau", "von Hippel Lindau", "von Hippel-Lindaus sjukdom"),
    "suspected": ("suspected", "misstänkt", "suspected MEN1", "suspected VHL", "clinically suspected",
                  "misstänkt MEN1", "possible", "möjlig"),
})
_SYNDROMES = _vals({
    "none": ("none", "nonfunctioning", "non-functioning", "icke-funktionell", "ingen", "no", "nej"),
    "insulinoma": ("insulinoma", "insulinom", "insulin"),
    "gastrinoma": ("gastrinoma", "gastrinom", "Zollinger-Ellison", "ZES", "gastrin"),
    "vipoma": ("vipoma", "vipom", "VIP", "Verner-Morrison", "WDHA"),
    "glucagonoma": ("glucagonoma", "glukagonom", "glucagon", "glukagon"),
    "somatostatinoma": ("somatostatinoma", "somatostatinom"),
    "ACTH": ("ACTH", "ACTHoma", "ectopic ACTH", "Cushing"),
    "PTHrP": ("PTHrP", "PTHrPoma", "hypercalcaemia", "hyperkalcemi"),
    "serotonin": ("serotonin", "carcinoid syndrome", "karcinoidsyndrom"),
    "other": ("other", "annat", "övrigt", "mixed", "blandad"),
})
_RESECTION = _vals({
    "pancreaticoduodenectomy": ("pancreaticoduodenectomy", "pancreatoduodenectomy", "Whipple", "Whipples",
                                "Whipple's", "Whipple procedure", "Whippleoperation", "PD", "PPPD",
                                "pylorus-preserving pancreaticoduodenectomy", "pankreatikoduodenektomi",
                                "pankreatoduodenektomi", "duodenopancreatectomy"),
    "distal": ("distal", "distal pancreatectomy", "distal pankreasresektion", "distal pankreatektomi",
               "distal resektion", "left pancreatectomy", "vänstersidig pankreasresektion", "DP",
               "corpus-cauda resection", "pancreatic tail resection", "svansresektion",
               "distal pancreatectomy with splenectomy", "distal pancreatectomy and splenectomy"),
    "central": ("central", "central pancreatectomy", "central pankreasresektion", "central pankreatektomi",
                "medial pancreatectomy", "segmental pancreatectomy", "segmentresektion"),
    "enucleation": ("enucleation", "enukleation", "enukleering", "enucleated", "tumour enucleation"),
    "total": ("total", "total pancreatectomy", "total pankreatektomi", "total pankreasresektion", "TP"),
})
_CLAVIEN = _vals({
    "0": ("0", "none", "no complication", "inga komplikationer", "ingen komplikation", "nej", "no"),
    "1": ("1", "I", "CD1", "CD I", "grade I", "grad I"),
    "2": ("2", "II", "CD2", "CD II", "grade II", "grad II"),
    "3": ("3", "III", "IIIa", "IIIb", "3a", "3b", "CD3", "CD IIIa", "CD IIIb", "CD III", "grade III", "grad III"),
    "4": ("4", "IV", "IVa", "IVb", "4a", "4b", "CD4", "CD IV", "CD IVa", "CD IVb", "grade IV", "grad IV"),
    "5": ("5", "V", "CD5", "CD V", "grade V", "grad V", "death", "död"),
})

_DATE_HINT = "a date (2019-05-31, 31/05/2019, 31.05.2019, 20190531 or an Excel date)"

# ---------------------------------------------------------------------------
# the dictionary
FIELDS: tuple[Field, ...] = (
    Field("patient_id", "id", required=True, seed=("000", "001"),
          description="Study id of the patient, unique within the file (never the personal identity number).",
          synonyms=("Patient ID", "PatientID", "Patient", "Pat ID", "PatID", "Patient number", "Patient no",
                    "Study ID", "Record ID", "Subject ID", "Case ID", "Case", "ID", "Löpnummer", "Löpnr",
                    "Patientnummer", "Patientnr", "Studie-ID", "Studienummer", "Id-nummer", "Kodnummer", "Kod")),
    Field("centre", "text", seed=("000", "001"),
          description="Treating centre (e.g. Uppsala, Sahlgrenska, Boston).",
          synonyms=("Centre", "Center", "Hospital", "Site", "Institution", "Sjukhus", "Klinik", "Centrum",
                    "Enhet", "Ort")),
    Field("sex", "category", allowed=("female", "male"), seed=("000", "001"),
          description="Sex of the patient.",
          synonyms=("Sex", "Gender", "Kön", "Kon", "Genus", "Man/kvinna", "M/F", "M/K"),
          values=_vals(SEX)),
    Field("birth_date", "date", seed=("000", "001"),
          description="Date of birth (give this or age_at_diagnosis).",
          synonyms=("Date of birth", "Birth date", "Birthdate", "DOB", "Born", "Födelsedatum", "Födelsedag",
                    "Född", "Fodd")),
    Field("age_at_diagnosis", "number", unit="years", seed=("000", "001"), minimum=0, maximum=110,
          description="Age at diagnosis of stage IV disease (give this or birth_date).",
          synonyms=("Age", "Age at diagnosis", "Age at stage IV", "Age at stage IV diagnosis", "Age at dx",
                    "Ålder", "Ålder vid diagnos", "Ålder vid stadium IV", "Ålder vid diagnos stadium IV")),
    Field("stage4_date", "date", required=True, seed=("000", "001"),
          description="Date of diagnosis of stage IV (metastatic) Pan-NET.",
          synonyms=("Date of stage IV diagnosis", "Stage IV date", "Stage 4 date", "Date stage IV",
                    "Stage IV diagnosis", "Diagnosis date", "Date of diagnosis", "Dx date", "Diagnosdatum",
                    "Datum stadium IV", "Datum stadium 4", "Stadium IV datum", "Stadium 4 datum",
                    "Diagnosdatum stadium IV", "Datum för diagnos", "Datum för stadium IV", "Metastasdatum")),
    Field("who_grade", "category", allowed=("G1", "G2", "G3", "NEC", "unknown"), seed=("000", "001"),
          description="WHO grade (2010/2017): NET G1, G2, G3 or poorly differentiated NEC. "
                      "A cell written 'unknown' is read as missing.",
          synonyms=("WHO grade", "Grade", "Grading", "Tumour grade", "Tumor grade", "WHO", "WHO-grad", "Grad",
                    "Gradering", "Tumörgrad", "WHO 2010", "WHO 2017", "WHO klassifikation"),
          values=_GRADE),
    Field("ki67", "number", unit="%", seed=("001",), minimum=0, maximum=100,
          description="Ki-67 proliferation index of the primary tumour.",
          synonyms=("Ki67", "Ki-67", "Ki 67", "Ki67 %", "Ki-67 index", "Ki67 index", "Proliferation index",
                    "Ki67-index", "Ki-67 (%)", "MIB-1")),
    Field("hereditary", "category", allowed=("sporadic", "MEN1", "VHL", "suspected"), seed=("000", "001"),
          description="Hereditary syndrome: sporadic tumour, MEN1, VHL, or a suspected (unconfirmed) syndrome.",
          synonyms=("Hereditary", "Hereditary syndrome", "Genetic syndrome", "Genetics", "Syndrome",
                    "Genetic profile", "Ärftlighet", "Ärftligt syndrom", "Hereditet", "Genetik", "Syndrom",
                    "MEN1/VHL"),
          values=_HEREDITARY),
    Field("functioning", "yesno", seed=("000", "001"),
          description="Functioning tumour (hormonal syndrome present).",
          synonyms=("Functioning", "Functional", "Functioning tumour", "Functioning tumor", "Hormonal",
                    "Hormonal syndrome present", "Hormone producing", "Funktionell", "Funktionell tumör",
                    "Hormonproducerande", "Hormonellt aktiv"),
          values={"functioning": "yes", "functional": "yes", "funktionell": "yes", "nonfunctioning": "no",
                  "non-functioning": "no", "nonfunctional": "no", "icke funktionell": "no",
                  "icke-funktionell": "no"}),
    Field("functional_syndrome", "category", seed=("000", "001"), strict=False,
          allowed=("none", "insulinoma", "gastrinoma", "vipoma", "glucagonoma", "somatostatinoma", "ACTH",
                   "PTHrP", "serotonin", "other"),
          description="Hormonal syndrome of a functioning tumour ('none' for a non-functioning tumour).",
          synonyms=("Functional syndrome", "Hormonal syndrome", "Hormone", "Syndrome type", "Hormonsyndrom",
                    "Hormon", "Typ av syndrom", "Funktionellt syndrom"),
          values=_SYNDROMES),
    Field("charlson", "integer", seed=("000", "001"), minimum=0, maximum=40,
          description="Charlson comorbidity index.",
          synonyms=("Charlson", "CCI", "Charlson index", "Charlson comorbidity index", "Charlson CI",
                    "Charlson score", "Komorbiditet", "Charlson komorbiditetsindex", "Komorbiditetsindex")),
    Field("primary_size_cm", "number", unit="cm", seed=("000", "001"), minimum=0, maximum=50,
          description="Largest diameter of the primary tumour.",
          synonyms=("Primary size", "Primary tumour size", "Primary tumor size", "Size primary tumour",
                    "Size primary tumor", "Tumour size", "Tumor size", "Size", "Size (cm)", "Tumörstorlek",
                    "Storlek primärtumör", "Primärtumörens storlek", "Storlek", "Tumörstorlek (cm)")),
    Field("liver_mets", "yesno", seed=("000", "001"),
          description="Liver metastases present.",
          synonyms=("Liver metastases", "Liver mets", "Liver met", "Hepatic metastases", "Levermetastaser",
                    "Levermetastas", "Levermets", "Lebermetastasen")),
    Field("liver_mets_n", "integer", seed=("000", "001"), minimum=0, maximum=1000,
          description="Number of liver metastases (write 10 or more as the counted number, e.g. 25).",
          synonyms=("Number of liver metastases", "No liver met", "No. liver mets", "Liver mets n",
                    "N liver mets", "Liver metastases number", "Antal levermetastaser", "Antal levermets",
                    "Antal metastaser", "Antal lever mets"),
),
    Field("liver_met_max_cm", "number", unit="cm", seed=("001",), minimum=0, maximum=50,
          description="Size of the largest liver metastasis.",
          synonyms=("Size of largest liver metastasis", "Largest liver metastasis", "Largest liver met",
                    "Largest metastasis", "Max liver met size", "Storlek största levermetastas",
                    "Största levermetastas", "Största metastas", "Största metastas (cm)")),
    Field("liver_mets_date", "date", seed=("001",),
          description="Date liver metastases were first diagnosed.",
          synonyms=("Date liver metastases", "Liver metastases date", "Date of liver metastases",
                    "Liver mets date", "Datum levermetastaser", "Levermetastasdatum", "Datum levermets",
                    "Datum för levermetastaser")),
    Field("extrahepatic_mets", "yesno", seed=("000",),
          description="Metastases outside the liver (any site, including extra-abdominal).",
          synonyms=("Extrahepatic metastases", "Extrahepatic mets", "Extrahepatic spread", "Extra-hepatic",
                    "Extrahepatiska metastaser", "Extrahepatisk spridning", "Extrahepatiska mets")),
    Field("extra_abdominal_mets", "yesno", seed=("000", "001"),
          description="Metastases outside the abdomen (lung, bone, ...).",
          synonyms=("Extra-abdominal metastases", "Extraabdominal metastases", "Extra-abdominal mets",
                    "Extraabdominal mets", "Extraabdominella metastaser", "Extraabdominell spridning",
                    "Extra-abdominella metastaser")),
    Field("cga_uln", "number", unit="× upper reference limit", seed=("001",), minimum=0, maximum=100000,
          description="Serum chromogranin A as a multiple of the laboratory's upper reference limit "
                      "(1 = at the limit).",
          synonyms=("Chromogranin A", "CgA", "S-CgA", "CgA xULN", "CgA ULN", "Chromogranin A xULN",
                    "Kromogranin A", "S-kromogranin A", "Kromogranin", "CgA (x ULN)")),
    Field("albumin", "number", unit="g/L", seed=("001",), minimum=0, maximum=100,
          description="Serum albumin.",
          synonyms=("Albumin", "S-albumin", "Serum albumin", "S-Alb", "Alb", "Albumin (g/L)", "P-albumin")),
    Field("primary_resection_date", "date", seed=("000", "001"),
          description="Date of resection of the primary tumour (empty = not resected).",
          synonyms=("Primary resection date", "Date of primary resection", "Date of primary tumour resection",
                    "Date of primary tumor resection", "Resection date", "Surgery date", "Date of surgery",
                    "Operation date", "Op-datum", "Op datum", "Operationsdatum", "Datum operation",
                    "Datum för operation", "Pankreasoperation datum", "Datum primärtumöroperation",
                    "Opdatum")),
    Field("primary_resection_type", "category", seed=("000", "001"),
          allowed=("pancreaticoduodenectomy", "distal", "central", "enucleation", "total"),
          description="Type of primary tumour resection.",
          synonyms=("Primary resection type", "Type of resection", "Resection type", "Type of surgery",
                    "Surgery type", "Operation type", "Procedure", "Operationstyp", "Typ av operation",
                    "Op-typ", "Operationsmetod", "Typ av resektion", "Ingrepp"),
          values=_RESECTION),
    Field("resection_before_stage4", "yesno", seed=("000",),
          description="The primary tumour was resected before stage IV was diagnosed.",
          synonyms=("Resection before stage IV", "Resected before stage IV", "Prior resection",
                    "Surgery before stage IV", "Opererad före stadium IV", "Resektion före stadium IV",
                    "Tidigare opererad")),
    Field("inoperable", "yesno", seed=("000",),
          description="Deemed inoperable (advanced comorbidity or unresectable primary tumour).",
          synonyms=("Inoperable", "Not operable", "Unresectable", "Icke operabel", "Inoperabel",
                    "Ej operabel", "Ej opererbar")),
    Field("liver_resection_date", "date", seed=("000", "001"),
          description="Date of the first liver resection (empty = none).",
          synonyms=("Liver resection date", "Date of liver resection", "Liver surgery date", "Liver resection",
                    "Hepatectomy date", "Leverresektion", "Leverresektion datum", "Datum leverresektion",
                    "Leverkirurgi", "Datum leverkirurgi", "Leveroperation")),
    Field("liver_ablation_date", "date", seed=("000", "001"),
          description="Date of the first thermal ablation (RFA/MWA) of liver metastases (empty = none).",
          synonyms=("Liver ablation date", "Ablation date", "Ablation", "Date of ablation", "RFA date", "RFA",
                    "MWA", "Thermal ablation", "Thermal ablation date", "THA", "THA date", "Ablation datum",
                    "Datum ablation", "Leverablation", "Termisk ablation", "Datum RFA")),
    Field("liver_transplant", "yesno", seed=("000", "001"),
          description="Liver transplantation performed.",
          synonyms=("Liver transplant", "Liver transplantation", "LTx", "OLT", "Levertransplantation",
                    "Levertransplanterad")),
    Field("other_liver_malignancy", "yesno", seed=("000", "001"),
          description="Simultaneous liver metastases from another malignancy.",
          synonyms=("Other liver malignancy", "Other malignancy in liver", "Other malignancy",
                    "Liver metastases from other cancer", "Annan malignitet", "Annan malignitet i levern",
                    "Annan cancer")),
    Field("first_visit_date", "date", seed=("001",),
          description="Date of the first visit at the study centre.",
          synonyms=("First visit date", "First visit", "Date of first visit", "Date first visit", "Referral date",
                    "Första besök", "Datum första besök", "Första besöket", "Remissdatum")),
    Field("chemo_lines", "integer", seed=("000", "001"), minimum=0, maximum=20,
          description="Number of lines of chemotherapy given (0 = none).",
          synonyms=("Chemotherapy lines", "Chemo lines", "Lines of chemotherapy", "Number of chemo lines",
                    "Chemotherapy", "Chemo", "Cytostatika", "Kemoterapi", "Antal linjer cytostatika",
                    "Cytostatikalinjer")),
    Field("ssa", "yesno", seed=("000", "001"),
          description="Treated with a somatostatin analogue (octreotide, lanreotide).",
          synonyms=("SSA", "Somatostatin analogue", "Somatostatin analog", "Somatostatin analogues",
                    "Octreotide", "Lanreotide", "Somatostatinanalog", "Oktreotid", "Sandostatin", "Somatuline")),
    Field("prrt", "yesno", seed=("000", "001"),
          description="Treated with peptide receptor radionuclide therapy (177Lu-DOTATATE, ...).",
          synonyms=("PRRT", "Peptide receptor radionuclide therapy", "Lutathera", "Lu-DOTATATE", "Lu-177",
                    "Radionuklidbehandling", "Radioreceptorterapi")),
    Field("interferon", "yesno", seed=("000", "001"),
          description="Treated with interferon alpha.",
          synonyms=("Interferon", "IFN", "Interferon alpha", "Interferon alfa", "Alfa-interferon")),
    Field("everolimus", "yesno", seed=("000", "001"),
          description="Treated with everolimus.",
          synonyms=("Everolimus", "Afinitor", "mTOR inhibitor")),
    Field("sunitinib", "yesno", seed=("000", "001"),
          description="Treated with sunitinib.",
          synonyms=("Sunitinib", "Sutent")),
    Field("embolization", "yesno", seed=("000", "001"),
          description="Liver embolization (bland, chemo- or radioembolization).",
          synonyms=("Embolization", "Embolisation", "TAE", "TACE", "SIRT", "Embolisering",
                    "Leverembolisering", "Hepatic artery embolization")),
    Field("clavien_dindo", "integer", seed=("000", "001"), minimum=0, maximum=5,
          description="Worst Clavien-Dindo complication grade after surgery (0 = none; IIIa/IIIb -> 3, "
                      "IVa/IVb -> 4).",
          synonyms=("Clavien-Dindo", "Clavien Dindo", "Clavien", "Clavien-Dindo grade", "CD grade",
                    "Complication grade", "Complications", "Komplikation", "Komplikationer",
                    "Komplikationsgrad", "Clavien-Dindo grad"),
          values=_CLAVIEN),
    Field("progression_date", "date", seed=("000", "001"),
          description="Date of the first (clinical or radiological) progression.",
          synonyms=("Progression date", "Date of progression", "First progression", "Date of first progression",
                    "Progression", "PD date", "Progressionsdatum", "Datum progression", "Första progression",
                    "Recurrence date", "Recidivdatum")),
    Field("death_date", "date", seed=("000", "001"),
          description="Date of death (empty = alive at last follow-up).",
          synonyms=("Death date", "Date of death", "DOD", "Deceased date", "Dödsdatum", "Död datum",
                    "Datum död", "Avliden datum", "Dödsdag")),
    Field("last_followup_date", "date", seed=("000", "001"),
          description="Date of the last follow-up (last clinical appointment) for patients alive.",
          synonyms=("Last follow-up", "Last followup", "Last follow up", "Last follow-up date",
                    "Date of last follow-up", "Date last seen", "Last contact", "Last visit",
                    "Senaste uppföljning", "Sista uppföljning", "Senaste kontroll", "Sista kontakt",
                    "Senaste besök", "Datum senaste uppföljning", "Uppföljning till")),
)

BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
CANONICAL_COLUMNS: tuple[str, ...] = tuple(f.name for f in FIELDS)


def _build_header_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for f in FIELDS:
        for word in (f.name, *f.synonyms):
            key = normalise(word)
            if key in index and index[key] != f.name:  # pragma: no cover - guarded by a test
                raise ValueError(f"header {word!r} is a synonym of {index[key]} and {f.name}")
            index[key] = f.name
    return index


HEADER_INDEX: dict[str, str] = _build_header_index()


def canonical_column(header: Any) -> str | None:
    """The dictionary column a file header means, or ``None``.

    >>> canonical_column("Kön")
    'sex'
    >>> canonical_column("Personnummer") is None
    True
    """
    return HEADER_INDEX.get(normalise(header))


def _build_value_index(f: Field) -> dict[str, str]:
    """normalised written value -> canonical value ('' = not convertible, known form)."""
    out: dict[str, str] = {}
    if f.type == "yesno":
        out.update({normalise(w): "yes" for w in YES})
        out.update({normalise(w): "no" for w in NO})
    for canon in f.allowed:
        out[normalise(canon)] = canon
    for word, canon in f.values.items():
        out[normalise(word)] = canon
    return out


VALUE_INDEX: dict[str, dict[str, str]] = {f.name: _build_value_index(f) for f in FIELDS}


def canonical_value(column: str, value: Any) -> str | None:
    """The canonical value of a written value of a category / yes-no field, or ``None``.

    Yes/no fields give ``"yes"`` or ``"no"``.

    >>> canonical_value("who_grade", "NET G2")
    'G2'
    >>> canonical_value("primary_resection_type", "Whipple")
    'pancreaticoduodenectomy'
    """
    hit = VALUE_INDEX.get(column, {}).get(normalise(value))
    return hit or None


# ---------------------------------------------------------------------------
# templates
_EXAMPLES = [
    {"patient_id": 1, "centre": "Example hospital", "sex": "female", "birth_date": "1950-01-01",
     "age_at_diagnosis": 60.0, "stage4_date": "2010-03-01", "who_grade": "G2", "ki67": 5.0,
     "hereditary": "sporadic", "functioning": "no", "functional_syndrome": "none", "charlson": 2,
     "primary_size_cm": 4.5, "liver_mets": "yes", "liver_mets_n": 6, "liver_met_max_cm": 3.0,
     "liver_mets_date": "2010-03-01", "extrahepatic_mets": "no", "extra_abdominal_mets": "no",
     "cga_uln": 2.5, "albumin": 38.0, "primary_resection_date": "2010-05-15",
     "primary_resection_type": "distal", "resection_before_stage4": "no", "inoperable": "no",
     "liver_resection_date": "", "liver_ablation_date": "", "liver_transplant": "no",
     "other_liver_malignancy": "no", "first_visit_date": "2010-02-20", "chemo_lines": 1, "ssa": "yes",
     "prrt": "no", "interferon": "no", "everolimus": "no", "sunitinib": "no", "embolization": "no",
     "clavien_dindo": 2, "progression_date": "2012-06-01", "death_date": "", "last_followup_date": "2019-12-31"},
    {"patient_id": 2, "centre": "Example hospital", "sex": "male", "birth_date": "1945-06-30",
     "age_at_diagnosis": 70.0, "stage4_date": "2015-07-01", "who_grade": "G1", "ki67": 1.0,
     "hereditary": "sporadic", "functioning": "yes", "functional_syndrome": "insulinoma", "charlson": 4,
     "primary_size_cm": 2.0, "liver_mets": "yes", "liver_mets_n": 12, "liver_met_max_cm": 5.5,
     "liver_mets_date": "2015-07-01", "extrahepatic_mets": "yes", "extra_abdominal_mets": "no",
     "cga_uln": 0.8, "albumin": 35.0, "primary_resection_date": "", "primary_resection_type": "",
     "resection_before_stage4": "no", "inoperable": "no", "liver_resection_date": "",
     "liver_ablation_date": "2016-01-10", "liver_transplant": "no", "other_liver_malignancy": "no",
     "first_visit_date": "2015-06-15", "chemo_lines": 0, "ssa": "yes", "prrt": "yes", "interferon": "no",
     "everolimus": "yes", "sunitinib": "no", "embolization": "yes", "clavien_dindo": 0,
     "progression_date": "2017-02-01", "death_date": "2018-11-20", "last_followup_date": "2018-11-20"},
]


def template_frame() -> pd.DataFrame:
    """An empty registry with every canonical column and two clearly fake example rows.

    Values are written as a user would type them (dates ``YYYY-MM-DD``,
    yes/no as ``yes``/``no``); the centre is called "Example hospital".
    """
    return pd.DataFrame(_EXAMPLES, columns=list(CANONICAL_COLUMNS)).astype(object).replace({"": None})


def template_csv_bytes() -> bytes:
    """:func:`template_frame` as UTF-8 CSV bytes (comma separated)."""
    return template_frame().to_csv(index=False, lineterminator="\n").encode("utf-8")


def template_xlsx_bytes() -> bytes:
    """:func:`template_frame` as an Excel workbook (sheet "patients") plus a "dictionary" sheet."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        template_frame().to_excel(writer, sheet_name="patients", index=False)
        dictionary_frame().to_excel(writer, sheet_name="dictionary", index=False)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# documentation
def _required_text(f: Field) -> str:
    if f.required:
        return "yes"
    for group in REQUIRED_ONE_OF:
        if f.name in group:
            return "one of " + " / ".join(group)
    return ""


def _range_text(f: Field) -> str:
    if f.allowed:
        return ", ".join(f.allowed)
    if f.type == "yesno":
        return "yes, no"
    if f.minimum is not None or f.maximum is not None:
        lo = "" if f.minimum is None else f"{f.minimum:g}"
        hi = "" if f.maximum is None else f"{f.maximum:g}"
        return f"{lo}–{hi}"
    return ""


def dictionary_frame() -> pd.DataFrame:
    """The dictionary as a tidy table (one row per field)."""
    rows = [{"name": f.name, "type": f.type, "allowed": _range_text(f), "unit": f.unit,
             "required": _required_text(f), "description": f.description,
             "synonyms": "; ".join(f.synonyms), "seed": ", ".join(f.seed)} for f in FIELDS]
    return pd.DataFrame(rows)


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def dictionary_markdown() -> str:
    """The text of ``docs/data-dictionary.md`` (a test checks the committed file equals it)."""
    lines = [
        "# Pan-NET data dictionary",
        "",
        "Generated from `pannet_core/io/schema.py` by `pannet_core.io.schema.dictionary_markdown()`;",
        "do not edit by hand (a test checks this file equals the function's output).",
        "",
        "Headers are matched ignoring case, accents, spaces and punctuation (`Kön` = `kon` = `KÖN`).",
        "A `column_map` in the settings overrides the synonyms. Seed 000 = primary tumour resection",
        "study, 001 = liver surgery / thermal hepatic ablation study.",
        "",
        "Values: dates as 2019-05-31, 31/05/2019, 31.05.2019, 31-05-2019, 20190531 or Excel dates;",
        "yes/no as " + ", ".join(f"`{w}`" for w in YES[:8]) + " / " + ", ".join(f"`{w}`" for w in NO[:6])
        + "; sex as `female`/`male`/`f`/`m`/`kvinna`/`man`/`k`;",
        "numbers with a decimal point or a decimal comma. Empty cells and `NA`, `N/A`, `unknown`, `okänd`,",
        "`saknas`, `-`, `.`, `?` are missing. Required: " + ", ".join(REQUIRED) + " and at least one of "
        + " / ".join(REQUIRED_ONE_OF[0]) + ".",
        "",
        "Problems found by `python -m pannet_core validate`, `run` and the Data page name the **data row**:",
        "data row 1 is the first row under the header (line 2 of a CSV file, row 2 in Excel).",
        "",
        "| name | type | allowed values | unit | required | description | synonyms | seed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in dictionary_frame().itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in (
            f"`{row.name}`", row.type, row.allowed, row.unit, row.required, row.description, row.synonyms,
            row.seed)) + " |")
    return "\n".join(lines) + "\n"
