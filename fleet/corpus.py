"""Text pools (Bahasa Indonesia) from which the fleet writes its village news articles.

Placeholders are filled by `content.py`; every template may use any key of its fill dictionary.
"""

from __future__ import annotations

from dataclasses import dataclass

CATEGORIES = ("Berita Desa", "Pengumuman", "Kegiatan", "Pembangunan", "Kesehatan")

MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")

DUSUN = ("Dusun I", "Dusun II", "Dusun III", "Dusun IV", "Grumbul Krajan", "Grumbul Karangsari")
POSYANDU = ("Melati", "Mawar", "Anggrek", "Dahlia", "Kenanga", "Flamboyan", "Cempaka")
KELOMPOK = ("Tani Makmur", "Sri Rejeki", "Ngudi Rejeki", "Sumber Pangan", "Mina Lestari")
BUMDES_SUFFIX = ("Sejahtera", "Maju Bersama", "Mandiri", "Berkah", "Makmur Jaya")
PERSONS = (
    "Sugeng Riyadi",
    "Slamet Widodo",
    "Tri Wahyuni",
    "Suparno",
    "Endang Sulistyowati",
    "Bambang Hermanto",
    "Sri Mulyani",
    "Rusmanto",
    "Kuswanto",
    "Siti Khotimah",
    "Agus Priyanto",
    "Nur Hidayah",
)
HOLIDAYS = ("Idulfitri", "Iduladha", "Natal dan Tahun Baru", "Tahun Baru Islam")


@dataclass(frozen=True)
class Topic:
    """A news topic: its category, title templates, opening paragraphs and detail paragraphs."""

    key: str
    category: str
    titles: tuple[str, ...]
    openings: tuple[str, ...]
    details: tuple[str, ...]


TOPICS: tuple[Topic, ...] = (
    Topic(
        "musdes",
        "Berita Desa",
        (
            "Musyawarah Desa Penyusunan RKPDes {sebutan} {desa} Tahun {tahun_depan}",
            "Musdes Penetapan APBDes {desa} Tahun Anggaran {tahun}",
            "Sosialisasi APBDes {tahun} kepada Warga {dusun}",
            "Musyawarah Dusun Menggali Usulan Pembangunan di {dusun}",
        ),
        (
            "Pemerintah {sebutan} {desa} menggelar musyawarah di balai {sebutan_kecil} pada hari "
            "{hari} ({tgl}). Kegiatan dihadiri BPD, perangkat {sebutan_kecil}, ketua RT dan RW, "
            "tokoh masyarakat, serta perwakilan TP PKK.",
            "Bertempat di pendapa balai {sebutan_kecil}, {hari} ({tgl}), BPD bersama Pemerintah "
            "{sebutan} {desa} membahas rencana kerja dan anggaran tahun {tahun_depan}.",
        ),
        (
            "Dalam sambutannya, {kades} {desa} {nama_kades} menyampaikan bahwa usulan yang "
            "masuk dari setiap dusun akan disaring berdasarkan skala prioritas dan kemampuan "
            "keuangan {sebutan_kecil}.",
            "Usulan yang mengemuka antara lain perbaikan jalan lingkungan, penambahan lampu "
            "penerangan jalan, serta dukungan kegiatan posyandu dan pemberdayaan perempuan.",
            "Perwakilan Kecamatan {kecamatan} yang hadir mengingatkan agar penyusunan anggaran "
            "tetap mengacu pada prioritas penggunaan Dana Desa dan disampaikan tepat waktu.",
        ),
    ),
    Topic(
        "blt",
        "Berita Desa",
        (
            "Penyaluran BLT Dana Desa Tahap {tahap} Tahun {tahun}",
            "Pemerintah {sebutan} {desa} Salurkan BLT-DD Bulan {bulan}",
            "Musdesus Penetapan Keluarga Penerima Manfaat BLT Dana Desa {tahun}",
        ),
        (
            "Pemerintah {sebutan} {desa} kembali menyalurkan Bantuan Langsung Tunai Dana Desa "
            "(BLT-DD) kepada {jumlah} keluarga penerima manfaat pada hari {hari} ({tgl}).",
            "Sebanyak {jumlah} keluarga penerima manfaat (KPM) menerima BLT Dana Desa di balai "
            "{sebutan_kecil} {desa}, {hari} ({tgl}).",
        ),
        (
            "Setiap KPM menerima Rp300.000 per bulan. Penyaluran disaksikan oleh BPD, "
            "pendamping desa, serta Bhabinkamtibmas dan Babinsa setempat.",
            "Penerima BLT ditetapkan melalui musyawarah desa khusus dengan mengutamakan keluarga "
            "miskin ekstrem, lansia tunggal, dan keluarga dengan anggota yang sakit menahun.",
            "Warga diminta membawa KTP dan kartu keluarga asli saat pengambilan bantuan agar "
            "proses verifikasi berjalan cepat.",
        ),
    ),
    Topic(
        "posyandu",
        "Kesehatan",
        (
            "Posyandu Balita {posyandu} {dusun} Bulan {bulan}",
            "Posyandu Lansia di {dusun}: Cek Tensi dan Gula Darah Gratis",
            "Pemberian Makanan Tambahan untuk Balita di Posyandu {posyandu}",
        ),
        (
            "Kegiatan Posyandu {posyandu} di {dusun} {sebutan} {desa} berlangsung pada hari "
            "{hari} ({tgl}) dengan melibatkan kader posyandu dan bidan desa.",
            "Sebanyak {jumlah} warga memanfaatkan layanan Posyandu {posyandu} yang digelar di "
            "rumah kader RT {rt}/RW {rw}, {hari} ({tgl}).",
        ),
        (
            "Layanan meliputi penimbangan berat badan, pengukuran tinggi badan, pemberian "
            "vitamin A, serta konsultasi gizi bagi orang tua balita.",
            "Bagi lansia, kader memeriksa tekanan darah, gula darah, dan asam urat, kemudian "
            "mencatat hasilnya di buku pemantauan kesehatan.",
            "Bidan desa mengingatkan pentingnya ASI eksklusif dan makanan pendamping yang "
            "bergizi seimbang untuk mencegah gizi kurang.",
        ),
    ),
    Topic(
        "kerja_bakti",
        "Kegiatan",
        (
            "Kerja Bakti Warga RT {rt}/RW {rw} Bersihkan Saluran Air",
            "Gotong Royong Jumat Bersih di {dusun}",
            "Warga {dusun} Kerja Bakti Perbaiki Jalan Setapak Menuju Makam",
        ),
        (
            "Puluhan warga RT {rt}/RW {rw} {sebutan} {desa} bergotong royong membersihkan "
            "lingkungan pada hari {hari} ({tgl}) sejak pukul 07.00 WIB.",
            "Menjelang musim hujan, warga {dusun} menggelar kerja bakti, {hari} ({tgl}), untuk "
            "membersihkan saluran air yang tersumbat sampah dan lumpur.",
        ),
        (
            "Kegiatan meliputi pembersihan selokan, pemangkasan rumput di bahu jalan, dan "
            "pengangkutan sampah ke tempat pembuangan sementara.",
            "Ibu-ibu PKK turut menyiapkan konsumsi sehingga suasana kebersamaan terasa hangat "
            "hingga kegiatan selesai menjelang siang.",
            "Ketua RW {rw} berharap kegiatan serupa dapat dilakukan rutin setiap bulan agar "
            "lingkungan tetap bersih dan sehat.",
        ),
    ),
    Topic(
        "pembangunan",
        "Pembangunan",
        (
            "Pembangunan Talud di {dusun} Telah Rampung",
            "Pengecoran Jalan Lingkungan RT {rt}/RW {rw} Sepanjang {panjang} Meter",
            "Rehabilitasi Saluran Irigasi {dusun} Didanai Dana Desa {tahun}",
            "Pembangunan Jembatan Penghubung {dusun} Dimulai",
        ),
        (
            "Pemerintah {sebutan} {desa} melaksanakan kegiatan fisik di {dusun} dengan anggaran "
            "{biaya} yang bersumber dari Dana Desa tahun {tahun}.",
            "Pekerjaan fisik di wilayah RT {rt}/RW {rw} {sebutan} {desa} dimulai pada hari "
            "{hari} ({tgl}) dan ditargetkan selesai dalam 30 hari kalender.",
        ),
        (
            "Pekerjaan dilaksanakan secara swakelola oleh Tim Pelaksana Kegiatan dengan "
            "melibatkan tenaga kerja dari warga setempat melalui pola padat karya tunai.",
            "Bangunan yang dikerjakan memiliki panjang {panjang} meter dengan lebar {lebar} "
            "meter, dilengkapi saluran di sisi kanan dan kiri.",
            "Warga menyambut baik pembangunan ini karena akses menuju sawah dan kebun menjadi "
            "lebih mudah, terutama saat musim hujan.",
            "Papan informasi kegiatan dipasang di lokasi sebagai bentuk keterbukaan informasi "
            "penggunaan anggaran kepada masyarakat.",
        ),
    ),
    Topic(
        "umkm",
        "Kegiatan",
        (
            "Pelatihan Pengolahan Gula Kelapa Kristal bagi Penderes {sebutan} {desa}",
            "Pelatihan Pemasaran Daring untuk Perajin Knalpot {desa}",
            "Pelatihan Pembuatan Bulu Mata Palsu bagi Ibu Rumah Tangga {dusun}",
            "Pelatihan Pengemasan dan Label Halal Produk UMKM {sebutan} {desa}",
        ),
        (
            "Sebanyak {jumlah} pelaku usaha mengikuti pelatihan yang digelar Pemerintah "
            "{sebutan} {desa} di balai {sebutan_kecil} pada hari {hari} ({tgl}).",
            "Dalam upaya meningkatkan pendapatan warga, {sebutan} {desa} bekerja sama dengan "
            "dinas terkait menyelenggarakan pelatihan keterampilan, {hari} ({tgl}).",
        ),
        (
            "Gula kelapa kristal dari Purbalingga diminati pasar ekspor, sehingga para penderes "
            "diajak menjaga kebersihan nira dan proses produksi agar memenuhi standar.",
            "Peserta belajar memotret produk, menulis deskripsi yang menarik, dan membuka toko "
            "di lokapasar agar jangkauan pembeli lebih luas.",
            "Industri bulu mata palsu dan rambut palsu menyerap banyak tenaga kerja perempuan "
            "di Purbalingga, sehingga keterampilan ini dapat dikerjakan dari rumah.",
            "Di akhir pelatihan, peserta didorong membentuk kelompok usaha bersama agar lebih "
            "mudah mengakses permodalan dan pendampingan.",
        ),
    ),
    Topic(
        "pkk",
        "Kegiatan",
        (
            "Rapat Rutin TP PKK {sebutan} {desa} Bulan {bulan}",
            "TP PKK {desa} Gelar Lomba Cipta Menu Beragam, Bergizi Seimbang, dan Aman",
            "Karang Taruna {desa} Gelar Turnamen Bola Voli Antar-RT",
            "Karang Taruna dan PMI Adakan Donor Darah di Balai {sebutan} {desa}",
        ),
        (
            "Kegiatan berlangsung di balai {sebutan_kecil} {desa} pada hari {hari} ({tgl}) dan "
            "diikuti oleh pengurus serta anggota dari seluruh dusun.",
            "Warga {sebutan} {desa} antusias mengikuti kegiatan kemasyarakatan yang digelar "
            "{hari} ({tgl}) di lapangan {sebutan_kecil}.",
        ),
        (
            "Ketua TP PKK menyampaikan program kerja bulan berikutnya, antara lain pembinaan "
            "dasawisma, pemanfaatan pekarangan, dan arisan sehat.",
            "Kegiatan pemuda ini diharapkan mempererat persaudaraan sekaligus menjauhkan remaja "
            "dari kegiatan negatif.",
            "Panitia mencatat {jumlah} peserta terdaftar, jauh lebih banyak dibanding tahun "
            "sebelumnya.",
        ),
    ),
    Topic(
        "kesehatan",
        "Kesehatan",
        (
            "Vaksinasi dan Imunisasi Dasar Lengkap di Polindes {sebutan} {desa}",
            "Rembuk Stunting {sebutan} {desa} Tahun {tahun}",
            "Pendampingan Keluarga Berisiko Stunting oleh Tim Pendamping Keluarga",
            "Sosialisasi Pencegahan Demam Berdarah di {dusun}",
        ),
        (
            "Pemerintah {sebutan} {desa} bersama Puskesmas {kecamatan} menggelar kegiatan "
            "kesehatan pada hari {hari} ({tgl}) di balai {sebutan_kecil}.",
            "Bertempat di Polindes {sebutan} {desa}, {hari} ({tgl}), tenaga kesehatan "
            "Puskesmas {kecamatan} memberikan layanan kepada {jumlah} warga.",
        ),
        (
            "Angka stunting di {sebutan_kecil} ditargetkan terus turun melalui pemantauan "
            "tumbuh kembang balita, pemberian makanan tambahan, dan edukasi calon pengantin.",
            "Petugas mengingatkan gerakan 3M Plus: menguras, menutup, dan mendaur ulang barang "
            "bekas, serta memakai kelambu dan lotion antinyamuk.",
            "Orang tua diminta memeriksa buku KIA dan melengkapi imunisasi anak sesuai jadwal "
            "yang ditetapkan.",
        ),
    ),
    Topic(
        "pengumuman",
        "Pengumuman",
        (
            "Pengumuman Jadwal Pelayanan Surat Menyurat Selama Libur {libur}",
            "Pengumuman Pelayanan Administrasi Kependudukan Keliling di {dusun}",
            "Pengumuman Pembagian SPPT PBB-P2 Tahun {tahun}",
            "Pengumuman Penerimaan Perangkat {sebutan} {desa} Tahun {tahun}",
        ),
        (
            "Diberitahukan kepada seluruh warga {sebutan} {desa} bahwa mulai hari {hari} "
            "({tgl}) berlaku pengaturan pelayanan sebagaimana tercantum di bawah ini.",
            "Pemerintah {sebutan} {desa} mengumumkan informasi pelayanan berikut untuk "
            "diketahui oleh seluruh warga.",
        ),
        (
            "Pelayanan surat pengantar, surat keterangan usaha, dan surat keterangan tidak "
            "mampu dilayani pukul 08.00 sampai 12.00 WIB di kantor {sebutan_kecil}.",
            "Warga yang membutuhkan pelayanan mendesak dapat menghubungi Sekretaris {sebutan} "
            "melalui ketua RT masing-masing.",
            "Persyaratan dan formulir dapat diambil di kantor {sebutan_kecil} atau diunduh "
            "melalui layanan mandiri di laman ini.",
        ),
    ),
    Topic(
        "hut_ri",
        "Kegiatan",
        (
            "Lomba HUT RI ke-{hut} Meriahkan {dusun}",
            "Upacara Peringatan HUT RI ke-{hut} di Lapangan {sebutan} {desa}",
            "Kirab Budaya dan Jalan Sehat Peringati HUT RI ke-{hut}",
        ),
        (
            "Semarak peringatan Hari Kemerdekaan terasa di {sebutan} {desa}. Pada hari {hari} "
            "({tgl}), warga tumpah ruah mengikuti rangkaian acara.",
            "Warga {dusun} menggelar berbagai lomba rakyat pada hari {hari} ({tgl}) dalam "
            "rangka memperingati HUT Kemerdekaan Republik Indonesia.",
        ),
        (
            "Lomba yang digelar antara lain balap karung, makan kerupuk, tarik tambang, dan "
            "panjat pinang yang diikuti anak-anak hingga orang tua.",
            "Seluruh perangkat {sebutan_kecil} dan pelajar mengikuti upacara dengan khidmat "
            "dipimpin {kades} {nama_kades} sebagai inspektur upacara.",
        ),
    ),
    Topic(
        "pangan",
        "Berita Desa",
        (
            "Program Ketahanan Pangan: Penanaman Jagung di Tanah Kas {sebutan}",
            "Penyerahan Bibit Ikan Lele untuk Kelompok {kelompok}",
            "BUMDes {bumdes} Setorkan Bagi Hasil Usaha ke Kas {sebutan}",
            "Rapat Pertanggungjawaban BUMDes {bumdes} Tahun Buku {tahun_lalu}",
        ),
        (
            "Dalam rangka mendukung program ketahanan pangan, Pemerintah {sebutan} {desa} "
            "mengalokasikan {biaya} dari Dana Desa tahun {tahun}.",
            "Badan Usaha Milik Desa (BUMDes) {bumdes} menggelar kegiatan di balai "
            "{sebutan_kecil} pada hari {hari} ({tgl}).",
        ),
        (
            "Kelompok {kelompok} akan mengelola kegiatan ini dengan pendampingan dari penyuluh "
            "pertanian lapangan Kecamatan {kecamatan}.",
            "Unit usaha BUMDes saat ini meliputi pengelolaan air bersih, penyewaan alat pesta, "
            "dan penjualan pupuk bagi petani.",
            "Hasil panen sebagian akan disalurkan kepada keluarga rawan pangan, sedangkan "
            "sisanya dijual untuk menambah modal kelompok.",
        ),
    ),
)

GENERIC = (
    "Kegiatan ini merupakan bagian dari program kerja Pemerintah {sebutan} {desa} tahun {tahun} "
    "yang telah ditetapkan dalam RKPDes.",
    "Warga yang ingin mengetahui informasi lebih lanjut dapat menghubungi kantor {sebutan_kecil} "
    "pada jam kerja atau melalui ketua RT dan RW setempat.",
    "Salah satu warga, {nama_warga}, mengaku senang dengan adanya kegiatan ini dan berharap "
    "dapat terus dilaksanakan pada tahun-tahun mendatang.",
    "Seluruh rangkaian kegiatan berjalan lancar, tertib, dan penuh rasa kekeluargaan.",
)

CLOSINGS = (
    "Pemerintah {sebutan} {desa} mengucapkan terima kasih kepada seluruh pihak yang telah "
    "mendukung terlaksananya kegiatan ini.",
    "Semoga kegiatan ini membawa manfaat bagi seluruh warga {sebutan} {desa}.",
    "Informasi selanjutnya akan disampaikan melalui laman resmi dan papan pengumuman "
    "{sebutan_kecil}.",
)

# Tricky-but-legal title (ampersand, double and single quotes) for a few villages.
TRICKY_TITLE = 'Kerja Bakti "Jum\'at Bersih" & Lomba Kebersihan Antar-RT {sebutan} {desa}'

# Hostile body (script and img onerror) for a few villages: the aggregator must sanitise it.
HOSTILE_TITLE = "Pengumuman Jadwal Pelayanan Kantor {sebutan} {desa} Pekan Ini"
HOSTILE_BODY = (
    "<p>Diberitahukan kepada warga bahwa pelayanan kantor {sebutan_kecil} tetap buka seperti "
    "biasa pada pukul 08.00 sampai 14.00 WIB.</p>\n"
    "<script>alert(1)</script>\n"
    '<p><img src="x" onerror="alert(document.cookie)"> Mohon membawa berkas persyaratan '
    "lengkap.</p>\n"
    "<p>Terima kasih atas perhatiannya.</p>"
)
