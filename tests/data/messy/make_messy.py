"""Writes the hand-made messy registry files in this folder (run once; the files are committed).

Every "good" file holds the same four fake patients as ``clean.csv``, written the way
hospital exports write them; tests check they all read to the same typed table.
"""
import datetime as dt
import io
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent

CLEAN = """patient_id,centre,sex,birth_date,stage4_date,who_grade,ki67,hereditary,functioning,charlson,primary_size_cm,liver_mets,liver_mets_n,cga_uln,albumin,primary_resection_date,primary_resection_type,clavien_dindo,ssa,death_date,last_followup_date,note,bmi
1,Uppsala,female,1950-03-15,2010-05-01,G1,2.5,sporadic,no,1,3.5,yes,4,1.5,38.5,2010-06-15,pancreaticoduodenectomy,2,yes,,2019-12-31,stabil,23.5
2,Sahlgrenska,male,1945-11-30,2012-01-20,G2,10,MEN1,yes,3,,yes,12,4.2,35,,,,no,2016-08-09,2016-08-09,ökad,27
3,Uppsala,female,1960-07-04,2015-09-10,G2,15,sporadic,no,0,6,yes,,,41,2015-10-01,distal,3,yes,,2019-06-30,,21.2
10,Boston,male,1938-01-25,2008-12-24,G1,1,suspected,no,5,1.8,no,0,0.9,40.1,2009-02-02,enucleation,0,no,2011-03-05,2011-01-10,död,30
"""

SEMICOLON = """Patient-ID;Sjukhus;Kön;Födelsedatum;Datum stadium IV;WHO-grad;Ki67;Ärftlighet;Funktionell;Charlson;Tumörstorlek;Levermetastaser;Antal levermetastaser;Kromogranin A;S-albumin;Op-datum;Operationstyp;Clavien-Dindo;Somatostatinanalog;Dödsdatum;Senaste uppföljning;note;bmi
1;Uppsala ;kvinna;15.03.1950;01.05.2010;NET G1;2,5;sporadisk;nej;1;3,5;ja;4;1,5;38,5;15/06/2010;Whipple;II;ja;;31-12-2019;stabil;23,5
2;Sahlgrenska;man;30.11.1945;20.01.2012;G2;10;MEN 1;ja;3;saknas;JA;12;4,2;35;;;;nej;09.08.2016;2016-08-09;ökad;27
3;Uppsala;K;04.07.1960;10.09.2015;grade 2;15;Sporadisk;Nej;0;6;ja;-;NA;41;01/10/2015;distal pankreasresektion;IIIa;Ja;;30.06.2019;;21,2
10;Boston;M;25.01.1938;24.12.2008;1;1;misstänkt;nej;5;1,8;nej;0;0,9;40,1;02/02/2009;Enukleation;0;nej;05.03.2011;10.01.2011;död;30
;;;;;;;;;;;;;;;;;;;;;;
"""

CP1252_TAB = """PatientID\tCentre\tKön\tFödelsedatum\tDiagnosdatum\tGrade\tKi-67 index\tHereditary\tFunctioning\tCCI\tPrimary tumour size\tLiver metastases\tNumber of liver metastases\tCgA\tAlbumin\tDate of surgery\tType of resection\tClavien\tSSA\tDödsdatum\tLast follow-up\tnote\tbmi
1\tUppsala\tKvinna\t19500315\t20100501\tG1\t2,5\tsporadic\tN\t1\t3,5\tY\t4\t1,5\t38,5\t20100615\tPD\tCD II\tY\t\t20191231\tstabil\t23,5
2\tSahlgrenska\tMan\t19451130\t20120120\tG2\t10\tMEN-1\tY\t3\tunknown\tY\t12\t4,2\t35\t\t\t\tN\t20160809\t20160809\tökad\t27
3\tUppsala\tF\t19600704\t20150910\tG2\t15\tsporadic\tN\t0\t6\tY\t?\tokänd\t41\t20151001\tdistal pancreatectomy\t3b\tY\t\t20190630\t\t21,2
10\tBoston\tM\t19380125\t20081224\tG1\t1\tsuspected\tN\t5\t1,8\tN\t0\t0,9\t40,1\t20090202\tenucleation\tnone\tN\t20110305\t20110110\tdöd\t30
"""

SERIAL = lambda d: (dt.date.fromisoformat(d) - dt.date(1899, 12, 30)).days  # noqa: E731
PIPE_ROWS = [
    ["1", "Uppsala", "F", SERIAL("1950-03-15"), SERIAL("2010-05-01"), "g1", "2.5", "Sporadic", "false", "1", "3.5", "true", "4", "1.5", "38.5", SERIAL("2010-06-15"), "Pancreaticoduodenectomy", "2", "true", "", SERIAL("2019-12-31"), "stabil", "23.5"],
    ["2", "Sahlgrenska", "M", SERIAL("1945-11-30"), SERIAL("2012-01-20"), "G2", "10", "men1", "true", "3", "N/A", "true", "12", "4.2", "35", "", "", "", "false", SERIAL("2016-08-09"), SERIAL("2016-08-09"), "ökad", "27"],
    ["3", "Uppsala", "F", SERIAL("1960-07-04"), SERIAL("2015-09-10"), "G2", "15", "sporadic", "0", "0", "6.0", "1", "", "", "41", SERIAL("2015-10-01"), "Distal", "3", "1", "", SERIAL("2019-06-30"), "", "21.2"],
    ["10", "Boston", "M", SERIAL("1938-01-25"), SERIAL("2008-12-24"), "G1", "1", "suspected", "0", "5", "1.8", "0", "0", "0.9", "40.1", SERIAL("2009-02-02"), "enucleation", "0", "0", SERIAL("2011-03-05"), SERIAL("2011-01-10"), "död", "30"],
]
PIPE_HEADER = ["Patient ID", "Hospital", "Gender", "DOB", "Stage IV date", "WHO grade", "Ki-67 %", "Genetic syndrome", "Functioning tumour", "Charlson index", "Tumour size", "Liver mets", "No liver met", "S-CgA", "Serum albumin", "Resection date", "Surgery type", "CD grade", "Octreotide", "Date of death", "Date last seen", "note", "bmi"]


def xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Om exporten"
    cover.append(["Export från kvalitetsregistret (påhittade patienter)"])
    ws = wb.create_sheet("Patienter")
    ws.append(["Patient ID", "Centre", "Sex", "Date of birth", "Date of stage IV diagnosis", "WHO grade", "Ki67",
               "Hereditary syndrome", "Functioning", "Charlson", "Primary size", "Liver metastases",
               "Antal levermetastaser", "Chromogranin A", "Albumin", "Primary resection date",
               "Primary resection type", "Clavien-Dindo", "SSA", "Death date", "Last follow-up", "note", "bmi"])
    d = dt.datetime.fromisoformat
    ws.append([1, "Uppsala", "Female", d("1950-03-15"), d("2010-05-01"), "NET G1", 2.5, "sporadic", False, 1, 3.5, True, 4, 1.5, 38.5, d("2010-06-15"), "Whipple", 2, True, None, d("2019-12-31"), "stabil", 23.5])
    ws.append([2, "Sahlgrenska", "Male", d("1945-11-30"), d("2012-01-20"), "NET G2", 10, "MEN1", True, 3, None, True, 12, 4.2, 35, None, None, None, False, d("2016-08-09"), d("2016-08-09"), "ökad", 27])
    ws.append([3, "Uppsala", "Female", d("1960-07-04"), d("2015-09-10"), "NET G2", 15, "sporadic", False, 0, 6, True, None, None, 41, d("2015-10-01"), "Distal", 3, True, None, d("2019-06-30"), None, 21.2])
    ws.append([10, "Boston", "Male", d("1938-01-25"), d("2008-12-24"), "NET G1", 1, "suspected", False, 5, 1.8, False, 0, 0.9, 40.1, d("2009-02-02"), "Enucleation", 0, False, d("2011-03-05"), d("2011-01-10"), "död", 30])
    ws.append([None] * 5)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def main() -> None:
    (HERE / "clean.csv").write_bytes(CLEAN.encode("utf-8"))
    (HERE / "semicolon_bom_crlf.csv").write_bytes(b"\xef\xbb\xbf" + SEMICOLON.replace("\n", "\r\n").encode("utf-8"))
    (HERE / "swedish_cp1252_tab.txt").write_bytes(CP1252_TAB.encode("cp1252"))
    pipe = "|".join(PIPE_HEADER) + "\n" + "".join("|".join(map(str, r)) + "\n" for r in PIPE_ROWS)
    (HERE / "pipe_excel_serial.csv").write_bytes(pipe.encode("utf-8"))
    xb = xlsx_bytes()
    (HERE / "registry.xlsx").write_bytes(xb)
    (HERE / "xlsx_named_csv.csv").write_bytes(xb)
    # bad files
    (HERE / "bad_empty.csv").write_bytes(b"")
    (HERE / "bad_header_only.csv").write_bytes(b"patient_id;stage4_date;death_date\r\n")
    (HERE / "bad_duplicated_columns.csv").write_bytes(b"patient_id,stage4_date,sex,sex\n1,2010-01-01,f,m\n")
    (HERE / "bad_truncated.xlsx").write_bytes(xb[: len(xb) // 3])
    (HERE / "bad_garbage.csv").write_bytes(bytes(range(256)) * 8)


if __name__ == "__main__":
    main()
